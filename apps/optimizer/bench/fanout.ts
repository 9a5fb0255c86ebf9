/**
 * `npm run bench:fanout`: preview fan-out under load. For N = 10, 50, 100 clients in one
 * room (in a separate process, bench/fanout-clients.ts), a real run streams previews; this
 * prints the delay from a frame's encoding to its arrival (p50/p95/p99/max; and the service's
 * share: encoding → handed to every free socket, "svc"), frames dropped
 * for busy clients, the clients' write backlog on the service, and the service's event-loop
 * delay while the run goes. Not a test: figures, not assertions.
 *
 * Env: BENCH_CLIENTS (default "10,50,100"), BENCH_SIZE (px, default 128),
 * BENCH_ITERATIONS (default 30), ATELIER_PREVIEW_FPS (default 4), ATELIER_VGG19, LOG_LEVEL.
 *
 * `-- --gateways N` (N ≥ 2): the cluster mode instead (bench/fanout-cluster.ts): N gateway
 * processes and `--workers` (2) worker processes on the local Redis, `--clients` (200) viewers
 * spread over the gateways and over `--rooms` (4) rooms, each with a run going at once.
 */
import { fork } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunUpdate } from "@atelier/protocol";
import { connect, createFixture, request, setDocument, startServer, tinyDocument, tokenFor } from "../test/support.ts";
import { DEFAULT_SETTINGS } from "../src/config.ts";
import { ask, percentile } from "./fanout-common.ts";
import { runClusterBench } from "./fanout-cluster.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const here = path.dirname(fileURLToPath(import.meta.url));
const counts = (process.env.BENCH_CLIENTS ?? "10,50,100").split(",").map((s) => Number(s.trim()));
const size = Number(process.env.BENCH_SIZE ?? 128);
const iterations = Number(process.env.BENCH_ITERATIONS ?? 30);
const previewFps = Number(process.env.ATELIER_PREVIEW_FPS ?? DEFAULT_SETTINGS.previewFps);

async function main(): Promise<void> {
  const f = await createFixture("bench");
  await setDocument(f, tinyDocument(f, { size, iterations }));
  const server = await startServer(f, { previewFps, checkpointEvery: 1000 });
  const owner = await connect(server, f.users.owner);
  const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!joined.ok) throw new Error(joined.error);

  console.log(
    `fan-out benchmark: ${size} px, ${iterations} iterations, ${previewFps} previews/s, clients ${counts.join("/")}; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${(await import("node:os")).cpus().length} cores`,
  );
  const rows: Record<string, string | number>[] = [];
  for (const n of counts) {
    const viewers = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const user = await f.db.user.create({ data: { name: `Viewer ${n}-${i}`, email: `v${n}-${i}@bench.test` } });
        await f.db.roomMember.create({ data: { roomId: f.roomId, userId: user.id, role: "viewer" } });
        return tokenFor({ id: user.id, name: user.name! }, 3600);
      }),
    );
    const child = fork(path.join(here, "fanout-clients.ts"), [], {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const clients = viewers.map((token) => ({ url: server.url, roomId: f.roomId, token }));
    await ask(child, { type: "start", clients }, "joined");

    const fanoutBefore = server.debug.fanoutStats();
    const serviceSamplesBefore = fanoutBefore.serviceLatencies.length;
    let maxBacklog = 0;
    let maxParked = 0;
    const backlogSamples: number[] = [];
    const sampler = setInterval(() => {
      let backlog = 0;
      for (const socket of server.io.sockets.sockets.values()) {
        backlog = Math.max(backlog, (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length);
      }
      backlogSamples.push(backlog);
      maxBacklog = Math.max(maxBacklog, backlog);
      maxParked = Math.max(maxParked, server.debug.fanoutStats().parked);
    }, 20);

    const done = new Promise<RunUpdate>((resolve) => {
      const onUpdate = (u: RunUpdate) => {
        if (u.run.status === "completed" || u.run.status === "failed") {
          owner.off("run:update", onUpdate);
          resolve(u);
        }
      };
      owner.on("run:update", onUpdate);
    });
    const started = Date.now();
    const reply = await request(owner, "run:start", { roomId: f.roomId, restart: false });
    if (!reply.ok) throw new Error(reply.error);
    // measure the loop while the run goes (skip the worker's start-up)
    await new Promise<void>((resolve) => {
      const onStats = () => {
        owner.off("run:stats", onStats);
        resolve();
      };
      owner.on("run:stats", onStats);
    });
    server.debug.resetEventLoopDelay();
    const end = await done;
    const loop = server.debug.eventLoopDelay();
    clearInterval(sampler);
    const wallS = (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 300)); // last frames in flight
    const raw = await ask<{ latencies: [string, number][]; perClient: Record<string, number>[]; bytes: number }>(
      child,
      { type: "report" },
      "report",
    );
    // only this run's frames: a joiner also gets the previous run's last frame, which is old by design
    const runId = end.run.runId;
    const report = {
      latencies: raw.latencies.filter(([id]) => id === runId).map(([, ms]) => ms),
      perClient: raw.perClient.map((byRun) => byRun[runId] ?? 0),
      bytes: raw.bytes,
    };
    child.send({ type: "stop" });
    const fanoutAfter = server.debug.fanoutStats();

    const sorted = [...report.latencies].sort((a, b) => a - b);
    // frames of this run as the service handed them out (encode → written to every free socket)
    const service = fanoutAfter.serviceLatencies.slice(serviceSamplesBefore).sort((a, b) => a - b);
    const frames = Math.max(...report.perClient);
    const half = Math.floor(backlogSamples.length / 2);
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
    rows.push({
      clients: n,
      status: end.run.status,
      "run s": wallS.toFixed(1),
      frames,
      "min/client": Math.min(...report.perClient),
      "p50 ms": percentile(sorted, 50),
      "p95 ms": percentile(sorted, 95),
      "p99 ms": percentile(sorted, 99),
      "max ms": sorted.at(-1) ?? NaN,
      "svc p50 ms": percentile(service, 50),
      "svc p95 ms": percentile(service, 95),
      dropped: fanoutAfter.dropped - fanoutBefore.dropped,
      "backlog max": maxBacklog,
      "backlog avg 1st/2nd half": `${avg(backlogSamples.slice(0, half)).toFixed(2)}/${avg(backlogSamples.slice(half)).toFixed(2)}`,
      "parked max": maxParked,
      "loop p50 ms": loop.p50.toFixed(1),
      "loop p99 ms": loop.p99.toFixed(1),
      "loop max ms": loop.max.toFixed(1),
      "load avg": loadavg()[0]!.toFixed(1),
      "KB/frame": (report.bytes / Math.max(1, report.latencies.length) / 1024).toFixed(1),
    });
    console.log(JSON.stringify(rows.at(-1)));
  }
  console.table(rows);
  owner.close();
  await server.close();
  await f.cleanup();
}

/** `--name value` from the command line (npm passes what follows `--`). */
function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} wants a positive integer`);
  return value;
}

const gateways = arg("gateways", 1);
const bench =
  gateways > 1
    ? () =>
        runClusterBench({
          gateways,
          workers: arg("workers", 2),
          clients: arg("clients", 200),
          rooms: arg("rooms", 4),
          size: Number(process.env.BENCH_SIZE ?? 96),
          iterations: Number(process.env.BENCH_ITERATIONS ?? 40),
          previewFps,
        })
    : main;

bench().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
