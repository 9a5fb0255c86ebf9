/**
 * `npm run bench:cluster-load`: the cluster under many rooms at once, bounded in time. 2 gateway
 * and 2 worker processes (the fan-out bench's, test/support-cluster.ts) on the local Redis and a
 * throwaway PostgreSQL database; `--rooms` rooms (40) × `--clients` members each (10: one editor,
 * the rest viewers in a separate process, bench/fanout-clients.ts), spread over the gateways.
 * The rooms belong to `--users` users (10), each starting a run (the Quick preset by default:
 * `--size`, `--iterations`) in every room of theirs at once, so the fair queue decides who
 * waits; each editor edits a field every 2 s. After `--seconds` (120) everything stops, finished
 * or not. Prints preview latency (p50/p95/p99), edit round trip, queue wait per user (and the
 * max/min ratio of the users' means: 1 is perfectly fair), dropped frames, errors, memory per
 * process, and the metrics each process serves at the end. Figures, not assertions.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serializeRoomDocument } from "@atelier/db";
import { PROTOCOL_VERSION, RUN_PRESETS, type RunUpdate } from "@atelier/protocol";
import { connect, createFixture, request, tinyDocument, tokenFor, type Client } from "../test/support.ts";
import { spawnGateway, spawnWorker, type NodeProcess } from "../test/support-cluster.ts";
import { ask, average, percentile } from "./fanout-common.ts";
import type { GatewayReport } from "./fanout-gateway.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const TOKEN = `bench-${randomUUID()}`;
const quick = RUN_PRESETS.find((p) => p.id === "quick")!.settings;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(value) || value < 1) throw new Error(`--${name} must be a positive number`);
  return value;
}
const o = {
  rooms: arg("rooms", 40),
  clients: arg("clients", 10),
  users: arg("users", 10),
  gateways: arg("gateways", 2),
  workers: arg("workers", 2),
  seconds: arg("seconds", 120),
  size: arg("size", quick.size),
  iterations: arg("iterations", quick.iterations),
};

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return res.ok ? res.text() : `(${res.status})`;
}
const sample = (text: string, name: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);

async function main(): Promise<void> {
  process.env.ATELIER_TEST_DB = "postgresql";
  const f = await createFixture("bench-load");
  const prefix = `atelier-load-${randomUUID().slice(0, 8)}:`;
  const env = {
    ATELIER_REDIS_PREFIX: prefix,
    ATELIER_METRICS_TOKEN: TOKEN,
    ATELIER_MAX_ACTIVE_RUNS_PER_USER: String(Math.ceil(o.rooms / o.users)),
    ATELIER_CHECKPOINT_EVERY: "1000",
  };
  const nodes: NodeProcess[] = [];
  const sockets: Client[] = [];
  const clients = fork(path.join(here, "fanout-clients.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  try {
    nodes.push(
      ...(await Promise.all([
        ...Array.from({ length: o.gateways }, (_, g) =>
          spawnGateway(f, `gateway-${g + 1}`, REDIS_URL, env, {
            entry: path.join(here, "fanout-gateway.ts"),
            ipc: true,
          }),
        ),
        ...Array.from({ length: o.workers }, (_, w) =>
          spawnWorker(
            f,
            `worker-${w + 1}`,
            REDIS_URL,
            { ...env, ATELIER_HEALTH_PORT: "0" },
            { entry: path.join(here, "fanout-worker.ts"), ipc: true },
          ),
        ),
      ])),
    );
    const gateways = nodes.slice(0, o.gateways);
    const workerUrls = await Promise.all(
      nodes
        .slice(o.gateways)
        .map(async (w) => `http://127.0.0.1:${(await w.waitForLog("worker.ready")).healthPort as number}`),
    );

    // users own the rooms round-robin; each room: the owner, an editor, viewers
    const document = serializeRoomDocument(
      tinyDocument(f, { size: o.size, iterations: o.iterations, multiscale: quick.multiscale }),
    );
    const mk = (name: string) => f.db.user.create({ data: { name, email: `${randomUUID()}@load.test` } });
    const owners = await Promise.all(Array.from({ length: o.users }, (_, u) => mk(`Owner ${u}`)));
    const rooms: { id: string; owner: (typeof owners)[number]; editor: { id: string; name: string } }[] = [];
    const viewers: { url: string; roomId: string; token: string }[] = [];
    for (let r = 0; r < o.rooms; r++) {
      const owner = owners[r % o.users]!;
      const editor = await mk(`Editor ${r}`);
      const room = await f.db.room.create({
        data: {
          name: `Load ${r}`,
          ownerId: owner.id,
          document,
          members: {
            create: [
              { userId: owner.id, role: "owner" },
              { userId: editor.id, role: "editor" },
            ],
          },
        },
      });
      rooms.push({ id: room.id, owner, editor: { id: editor.id, name: editor.name! } });
      for (let v = 0; v < o.clients - 1; v++) {
        const viewer = await mk(`Viewer ${r}-${v}`);
        await f.db.roomMember.create({ data: { roomId: room.id, userId: viewer.id, role: "viewer" } });
        const token = tokenFor({ id: viewer.id, name: viewer.name! }, 3600);
        viewers.push({ url: gateways[(r + v) % o.gateways]!.url, roomId: room.id, token });
      }
    }
    console.log(
      `cluster load: ${o.gateways} gateways, ${o.workers} workers (1 engine each), ${o.rooms} rooms × ${o.clients} clients ` +
        `(${viewers.length} viewers), ${o.users} users, runs ${o.size} px × ${o.iterations} iterations, ` +
        `${o.seconds} s; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
    );
    await ask(clients, { type: "start", clients: viewers }, "joined");
    let errors = 0;
    const editTrips: number[] = [];
    const starters: Client[] = [];
    const editors: Client[] = [];
    for (const [r, room] of rooms.entries()) {
      const gateway = gateways[r % o.gateways]!;
      for (const [user, list] of [
        [room.owner, starters],
        [room.editor, editors],
      ] as const) {
        const socket = await connect(gateway, { id: user.id, name: user.name! });
        sockets.push(socket);
        const joined = await request(socket, "room:join", { roomId: room.id, protocol: PROTOCOL_VERSION });
        if (!joined.ok) throw new Error(joined.error);
        list.push(socket);
      }
    }
    await Promise.all(gateways.map((g) => ask(g.child, { type: "measure" }, "measuring")));

    // every user starts all their rooms' runs at once; wait = start → running
    const started = Date.now();
    const waits = new Map<string, number[]>();
    const waiting = new Map<string, { user: string; at: number }>();
    const ended = new Set<string>();
    starters.forEach((socket, r) => {
      socket.on("run:update", (u: RunUpdate) => {
        const w = waiting.get(u.run.runId);
        if (w && u.run.status !== "queued") {
          waiting.delete(u.run.runId);
          waits.set(w.user, [...(waits.get(w.user) ?? []), Date.now() - w.at]);
        }
        if (!["queued", "running"].includes(u.run.status)) ended.add(`${r}:${u.run.status}`);
      });
    });
    await Promise.all(
      starters.map(async (socket, r) => {
        const at = Date.now();
        const reply = await request(socket, "run:start", { roomId: rooms[r]!.id });
        if (!reply.ok) return void (errors += 1);
        if (reply.run.status === "queued") waiting.set(reply.run.runId, { user: rooms[r]!.owner.id, at });
        else waits.set(rooms[r]!.owner.id, [...(waits.get(rooms[r]!.owner.id) ?? []), Date.now() - at]);
      }),
    );
    // editors: one field edit every 2 s, its ack timed
    let version = new Map<number, number>();
    const editing = setInterval(() => {
      editors.forEach((socket, r) => {
        const at = Date.now();
        void request(socket, "doc:edit", {
          roomId: rooms[r]!.id,
          field: "styleWeight",
          value: 100 + (Date.now() % 50),
          baseVersion: version.get(r) ?? 0,
        }).then((reply) => {
          if (reply.ok) {
            editTrips.push(Date.now() - at);
            version = version.set(r, reply.version);
          } else if (reply.code !== "conflict") errors += 1;
        });
      });
    }, 2000);
    await new Promise((r) => setTimeout(r, o.seconds * 1000));
    clearInterval(editing);
    const elapsed = Date.now() - started;
    for (const [, w] of waiting) waits.set(w.user, [...(waits.get(w.user) ?? []), Date.now() - w.at]); // still queued: at least this

    const reports = await Promise.all(gateways.map((g) => ask<GatewayReport>(g.child, { type: "report" }, "report")));
    const raw = await ask<{ latencies: [string, number, number][] }>(clients, { type: "report" }, "report");
    const latency = raw.latencies.map(([, ms]) => ms).sort((a, b) => a - b);
    const trips = editTrips.sort((a, b) => a - b);
    const userMeans = [...waits.values()].map(average).sort((a, b) => a - b);
    const texts = await Promise.all([...gateways.map((g) => g.url), ...workerUrls].map(scrape));
    const names = nodes.map((n) => n.name);
    console.log(`\nafter ${(elapsed / 1000).toFixed(0)} s: ${ended.size} runs ended, ${waiting.size} still queued`);
    console.table([
      {
        "preview p50 ms": percentile(latency, 50),
        "p95 ms": percentile(latency, 95),
        "p99 ms": percentile(latency, 99),
        frames: latency.length,
        dropped: reports.reduce((n, r) => n + r.dropped, 0),
        "edit p50 ms": percentile(trips, 50),
        "edit p95 ms": percentile(trips, 95),
        "edit p99 ms": percentile(trips, 99),
        edits: trips.length,
        "wait/user min s": ((userMeans[0] ?? NaN) / 1000).toFixed(1),
        "max s": ((userMeans.at(-1) ?? NaN) / 1000).toFixed(1),
        "max/min": ((userMeans.at(-1) ?? NaN) / (userMeans[0] ?? NaN)).toFixed(2),
        errors,
        "node errors": texts.reduce((n, t) => n + sample(t, 'atelier_log_problems_total{level="error"'), 0),
      },
    ]);
    console.table(
      names.map((name, i) => ({
        process: name,
        "RSS MB": (sample(texts[i]!, "process_resident_memory_bytes") / 2 ** 20).toFixed(0),
        sockets: sample(texts[i]!, 'atelier_gateway{what="sockets"}'),
        "events in": sample(texts[i]!, "atelier_socket_events_in_total"),
        refused: sample(texts[i]!, "atelier_socket_events_refused_total"),
        "fan-out p50 ≤ s": bucketQuantile(texts[i]!, "atelier_preview_fanout_seconds", 0.5),
        iterations: sample(texts[i]!, "atelier_iterations_total"),
        "runs done": sample(texts[i]!, "atelier_run_duration_seconds_count"),
        "redis/db errors": sample(texts[i]!, "atelier_dependency_errors_total"),
        "loop lag p99 ms": (sample(texts[i]!, "nodejs_eventloop_lag_p99_seconds") * 1000).toFixed(1),
      })),
    );
    console.log(`queue at the end (gateway-1): ${queueLine(texts[0]!)}; load average ${loadavg()[0]!.toFixed(1)}`);
  } finally {
    if (clients.connected) clients.send({ type: "stop" });
    for (const s of sockets) s.close();
    await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
    await f.cleanup();
  }
}

/** The upper bound of the histogram bucket holding quantile q (Prometheus text, one series). */
function bucketQuantile(text: string, name: string, q: number): string {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, "gm"))].map(
    (m): [string, number] => [m[1]!, Number(m[2])],
  );
  const total = buckets.at(-1)?.[1] ?? 0;
  if (!total) return "-";
  return buckets.find(([, n]) => n >= q * total)?.[0] ?? "+Inf";
}

function queueLine(text: string): string {
  return [...text.matchAll(/^atelier_queue_jobs\{state="(\w+)"\} (\d+)/gm)]
    .filter((m) => m[2] !== "0")
    .map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
