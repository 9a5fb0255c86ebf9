/**
 * `npm run bench:fanout -- --gateways 2`: preview fan-out over several gateways, laid out as a
 * deployment: N gateways (role "gateway", no engine work), each its own process
 * (bench/fanout-gateway.ts: src/main.ts's gateway plus an IPC channel for its figures), and the
 * runs on separate worker processes (src/cluster/worker-process.ts, through bench/fanout-worker.ts), all
 * spawned with the chaos tests' helpers (test/support-cluster.ts). Every node has an IPC channel
 * to the bench and stops when it closes: even a bench killed with SIGKILL leaves no process. They share the local Redis under a key prefix of this
 * run's own (its keys are deleted at the end) and a throwaway PostgreSQL database (several
 * processes share it: SQLite is not for that).
 *
 * Workers: `--workers` processes (default 2) × ⌈rooms / workers⌉ slots (ATELIER_WORKERS), so
 * every room's run goes at once, as with the in-process bench before; two processes so the
 * runs are spread over more than one worker, not more, since each process costs its own Node,
 * database and Redis connections on a machine that may have 2 cores.
 *
 * `clients` viewers are spread over the gateways and over `rooms` rooms; each room's owner
 * starts a run through one gateway, all at once. A run's previews reach every gateway through
 * Redis. Prints per gateway: preview latency (encoding → arrival, p50/p95/p99/max), frames per
 * client, dropped frames, write backlog (max, and the mean in the first and second half: a
 * growing backlog shows as a larger second half), and that gateway process's own event-loop
 * delay (from every run's first stats to the last run's end). Not a test: figures, not assertions.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { serializeRoomDocument } from "@atelier/db";
import type { RunUpdate } from "@atelier/protocol";
import { connect, createFixture, request, tinyDocument, tokenFor, type Client, type Fixture } from "../test/support.ts";
import { spawnGateway, spawnWorker, type NodeProcess } from "../test/support-cluster.ts";
import type { ClientTarget } from "./fanout-clients.ts";
import { ask, average, percentile } from "./fanout-common.ts";
import type { Settings } from "../src/config.ts";
import type { GatewayReport } from "./fanout-gateway.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface ClusterBenchOptions extends Pick<Settings, "previewFps"> {
  gateways: number;
  /** worker processes */
  workers: number;
  clients: number;
  rooms: number;
  size: number;
  iterations: number;
}

export async function runClusterBench(o: ClusterBenchOptions): Promise<void> {
  // several processes share the fixture's database: PostgreSQL, as in the chaos tests
  process.env.ATELIER_TEST_DB = "postgresql";
  const f = await createFixture("bench-cluster");
  const redisPrefix = `atelier-bench-${randomUUID().slice(0, 8)}:`;
  const slotsPerWorker = Math.ceil(o.rooms / o.workers);
  const nodes: NodeProcess[] = [];
  const starters: Client[] = [];
  const clientsProcess = fork(path.join(here, "fanout-clients.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  let cleaned: Promise<void> | undefined;
  const cleanup = () =>
    (cleaned ??= (async () => {
      if (clientsProcess.connected) clientsProcess.send({ type: "stop" });
      for (const s of starters) s.close();
      await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
      await deleteKeys(redisPrefix);
      await f.cleanup();
    })());
  // Ctrl-C or a kill of the bench: its nodes go too (a gateway also stops when its IPC channel closes)
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    const env = {
      ATELIER_REDIS_PREFIX: redisPrefix,
      ATELIER_PREVIEW_FPS: String(o.previewFps),
      ATELIER_CHECKPOINT_EVERY: "1000",
    };
    const spawned = await Promise.all([
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
          { ...env, ATELIER_WORKERS: String(slotsPerWorker) },
          { entry: path.join(here, "fanout-worker.ts"), ipc: true },
        ),
      ),
    ]);
    nodes.push(...spawned);
    // a node that dies ends the bench with its last log lines rather than a wait for ever
    const died = new Promise<never>((_, reject) =>
      nodes.forEach((n) => n.child.once("exit", () => reject(new Error(`${n.name} exited\n${n.tail()}`)))),
    );
    died.catch(() => {}); // the nodes' own exit at the end rejects it too, unheard
    await measure(f, o, { gateways: spawned.slice(0, o.gateways), died, clientsProcess, starters, slotsPerWorker });
  } finally {
    await cleanup();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

interface Cluster {
  gateways: NodeProcess[];
  /** rejects when a gateway or worker exits */
  died: Promise<never>;
  clientsProcess: ChildProcess;
  /** the rooms' owners' sockets, filled here and closed by the caller */
  starters: Client[];
  slotsPerWorker: number;
}

async function measure(
  f: Fixture,
  o: ClusterBenchOptions,
  { gateways, died, clientsProcess, starters, slotsPerWorker }: Cluster,
): Promise<void> {
  const document = serializeRoomDocument(tinyDocument(f, { size: o.size, iterations: o.iterations }));
  // one room per starter (a user runs one job at a time), each started through gateway r mod N
  const rooms: { roomId: string; starter: { id: string; name: string } }[] = [];
  for (let r = 0; r < o.rooms; r++) {
    const user = await f.db.user.create({ data: { name: `Starter ${r}`, email: `starter${r}@bench.test` } });
    const room = await f.db.room.create({
      data: {
        name: `Bench room ${r}`,
        ownerId: user.id,
        document,
        members: { create: [{ userId: user.id, role: "owner" }] },
      },
    });
    rooms.push({ roomId: room.id, starter: { id: user.id, name: user.name! } });
  }

  // viewer i: gateway i mod N, room (i div N) mod rooms — every room has viewers on every gateway
  const targets: (ClientTarget & { gateway: number })[] = [];
  for (let i = 0; i < o.clients; i++) {
    const gateway = i % o.gateways;
    const { roomId } = rooms[Math.floor(i / o.gateways) % o.rooms]!;
    const user = await f.db.user.create({ data: { name: `Viewer ${i}`, email: `v${i}@bench.test` } });
    await f.db.roomMember.create({ data: { roomId, userId: user.id, role: "viewer" } });
    targets.push({
      url: gateways[gateway]!.url,
      roomId,
      token: tokenFor({ id: user.id, name: user.name! }, 3600),
      gateway,
    });
  }
  console.log(
    `fan-out benchmark, cluster: ${o.gateways} gateway processes, ${o.workers} worker processes × ${slotsPerWorker} slots, ` +
      `${o.clients} clients, ${o.rooms} rooms with a run each ` +
      `(${o.size} px, ${o.iterations} iterations, ${o.previewFps} previews/s); ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  await ask(
    clientsProcess,
    { type: "start", clients: targets.map(({ url, roomId, token }) => ({ url, roomId, token })) },
    "joined",
  );

  for (const [r, room] of rooms.entries()) {
    const socket = await connect(gateways[r % o.gateways]!, room.starter);
    starters.push(socket);
    const joined = await request(socket, "room:join", { roomId: room.roomId, protocol: PROTOCOL_VERSION });
    if (!joined.ok) throw new Error(joined.error);
  }

  const until = (socket: Client, test: (u: RunUpdate) => boolean) =>
    new Promise<RunUpdate>((resolve) => {
      const onUpdate = (u: RunUpdate) => {
        if (!test(u)) return;
        socket.off("run:update", onUpdate);
        resolve(u);
      };
      socket.on("run:update", onUpdate);
    });
  const ends = starters.map((s) => until(s, (u) => u.run.status === "completed" || u.run.status === "failed"));
  const firstStats = starters.map((s) => new Promise<void>((resolve) => s.once("run:stats", () => resolve())));
  await Promise.all(gateways.map((g) => ask(g.child, { type: "measure" }, "measuring")));
  const started = Date.now();
  const replies = await Promise.all(
    starters.map((socket, r) => request(socket, "run:start", { roomId: rooms[r]!.roomId, restart: false })),
  );
  for (const reply of replies) if (!reply.ok) throw new Error(reply.error);
  // measure while every run goes (skip the workers' start-up)
  await Promise.race([Promise.all(firstStats), died]);
  await Promise.all(gateways.map((g) => ask(g.child, { type: "reset-loop" }, "loop-reset")));
  const finished = await Promise.race([Promise.all(ends), died]);
  const reports = await Promise.all(gateways.map((g) => ask<GatewayReport>(g.child, { type: "report" }, "report")));
  const wallS = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // last frames in flight
  const raw = await ask<{ latencies: [string, number, number][]; perClient: Record<string, number>[] }>(
    clientsProcess,
    { type: "report" },
    "report",
  );

  const runIds = new Set(finished.map((u) => u.run.runId));
  const rows: Record<string, string | number>[] = [];
  const row = (label: string, clientIdx: number[], gatewayIdx: number[]) => {
    const inSet = new Set(clientIdx);
    const sorted = raw.latencies
      .filter(([runId, , i]) => runIds.has(runId) && inSet.has(i))
      .map(([, ms]) => ms)
      .sort((a, b) => a - b);
    const frames = clientIdx.map((i) =>
      Object.entries(raw.perClient[i] ?? {})
        .filter(([id]) => runIds.has(id))
        .reduce((n, [, c]) => n + c, 0),
    );
    const backlog = gatewayIdx.flatMap((g) => reports[g]!.backlog);
    const half = Math.floor(backlog.length / 2);
    // one gateway: its own process's loop; "all": the worst gateway's
    const loop = gatewayIdx.map((g) => reports[g]!.loop);
    rows.push({
      gateway: label,
      clients: clientIdx.length,
      "runs started here": gatewayIdx.reduce((n, g) => n + rooms.filter((_, r) => r % o.gateways === g).length, 0),
      "frames/client max": Math.max(...frames),
      "min/client": Math.min(...frames),
      "p50 ms": percentile(sorted, 50),
      "p95 ms": percentile(sorted, 95),
      "p99 ms": percentile(sorted, 99),
      "max ms": sorted.at(-1) ?? NaN,
      dropped: gatewayIdx.reduce((n, g) => n + reports[g]!.dropped, 0),
      "backlog max": Math.max(0, ...backlog),
      "backlog avg 1st/2nd half": `${average(backlog.slice(0, half)).toFixed(2)}/${average(backlog.slice(half)).toFixed(2)}`,
      "loop p50 ms": Math.max(...loop.map((l) => l.p50)).toFixed(1),
      "loop p99 ms": Math.max(...loop.map((l) => l.p99)).toFixed(1),
      "loop max ms": Math.max(...loop.map((l) => l.max)).toFixed(1),
    });
  };
  const all = targets.map((_, i) => i);
  gateways.forEach((_, g) =>
    row(
      String(g + 1),
      all.filter((i) => targets[i]!.gateway === g),
      [g],
    ),
  );
  row(
    "all",
    all,
    gateways.map((_, g) => g),
  );
  console.log(
    `runs: ${finished.map((u) => u.run.status).join(", ")} in ${wallS.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.table(rows);
}

/** Deletes this run's Redis keys (BullMQ's queue, the run bus's, the adapter's stream). */
async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } catch (error) {
    console.error(`could not delete the Redis keys ${prefix}*:`, error);
  } finally {
    redis.disconnect();
  }
}
