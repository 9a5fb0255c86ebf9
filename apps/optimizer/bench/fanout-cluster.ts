/**
 * `npm run bench:fanout -- --gateways 2`: preview fan-out over several gateways. N gateways
 * (each a full service with its worker threads) share the local Redis (a key prefix of this
 * run's own); `clients` viewers are spread over the gateways and over `rooms` rooms, each
 * room's owner starts a run on one gateway, all at once. A run's previews reach the clients of
 * the other gateways through Redis. Prints per gateway: preview latency (encoding → arrival,
 * p50/p95/p99/max), frames per client, dropped frames, write backlog (max, and the mean in the
 * first and second half: a growing backlog shows as a larger second half), event-loop delay
 * (the gateways run in this one process, so they share one event loop: the same figure on every row).
 * Not a test: figures, not assertions.
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serializeRoomDocument } from "@atelier/db";
import type { RunUpdate } from "@atelier/protocol";
import type { OptimizerServer } from "../src/server.ts";
import { connect, createFixture, request, startServer, tinyDocument, tokenFor, type Client } from "../test/support.ts";
import type { ClientTarget } from "./fanout-clients.ts";
import { ask, average, percentile } from "./fanout-common.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface ClusterBenchOptions {
  gateways: number;
  clients: number;
  rooms: number;
  size: number;
  iterations: number;
  previewFps: number;
}

interface GatewaySamples {
  backlog: number[];
  maxBacklog: number;
}

export async function runClusterBench(o: ClusterBenchOptions): Promise<void> {
  const f = await createFixture("bench-cluster");
  const redisPrefix = `atelier-bench-${randomUUID().slice(0, 8)}:`;
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
  const workersPerGateway = Math.ceil(o.rooms / o.gateways);
  const servers: OptimizerServer[] = [];
  for (let g = 0; g < o.gateways; g++) {
    servers.push(
      await startServer(f, {
        redisUrl: REDIS_URL,
        redisPrefix,
        previewFps: o.previewFps,
        checkpointEvery: 1000,
        workers: workersPerGateway,
      }),
    );
  }

  // viewer i: gateway i mod N, room (i div N) mod rooms — every room has viewers on every gateway
  const targets: (ClientTarget & { gateway: number })[] = [];
  for (let i = 0; i < o.clients; i++) {
    const gateway = i % o.gateways;
    const { roomId } = rooms[Math.floor(i / o.gateways) % o.rooms]!;
    const user = await f.db.user.create({ data: { name: `Viewer ${i}`, email: `v${i}@bench.test` } });
    await f.db.roomMember.create({ data: { roomId, userId: user.id, role: "viewer" } });
    targets.push({
      url: servers[gateway]!.url,
      roomId,
      token: tokenFor({ id: user.id, name: user.name! }, 3600),
      gateway,
    });
  }
  console.log(
    `fan-out benchmark, cluster: ${o.gateways} gateways, ${o.clients} clients, ${o.rooms} rooms with a run each ` +
      `(${o.size} px, ${o.iterations} iterations, ${o.previewFps} previews/s, ${workersPerGateway} worker threads per gateway); ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  const child = fork(path.join(here, "fanout-clients.ts"), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await ask(
    child,
    { type: "start", clients: targets.map(({ url, roomId, token }) => ({ url, roomId, token })) },
    "joined",
  );

  const starters: Client[] = [];
  for (const [r, room] of rooms.entries()) {
    const socket = await connect(servers[r % o.gateways]!, room.starter);
    const joined = await request(socket, "room:join", { roomId: room.roomId });
    if (!joined.ok) throw new Error(joined.error);
    starters.push(socket);
  }
  const samples: GatewaySamples[] = servers.map(() => ({ backlog: [], maxBacklog: 0 }));
  const sampler = setInterval(() => {
    servers.forEach((server, g) => {
      let backlog = 0;
      for (const socket of server.io.sockets.sockets.values())
        backlog = Math.max(backlog, (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length);
      samples[g]!.backlog.push(backlog);
      samples[g]!.maxBacklog = Math.max(samples[g]!.maxBacklog, backlog);
    });
  }, 20);

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
  const fanoutBefore = servers.map((s) => s.debug.fanoutStats());
  const started = Date.now();
  const replies = await Promise.all(
    starters.map((socket, r) => request(socket, "run:start", { roomId: rooms[r]!.roomId, restart: false })),
  );
  for (const reply of replies) if (!reply.ok) throw new Error(reply.error);
  // measure while every run goes (skip the worker threads' start-up)
  await Promise.all(firstStats);
  for (const server of servers) server.debug.resetEventLoopDelay();
  const finished = await Promise.all(ends);
  const loops = servers.map((s) => s.debug.eventLoopDelay());
  clearInterval(sampler);
  const wallS = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // last frames in flight
  const raw = await ask<{ latencies: [string, number, number][]; perClient: Record<string, number>[] }>(
    child,
    { type: "report" },
    "report",
  );
  child.send({ type: "stop" });

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
    const backlog = gatewayIdx.flatMap((g) => samples[g]!.backlog);
    const half = Math.floor(backlog.length / 2);
    const loop = gatewayIdx.map((g) => loops[g]!);
    rows.push({
      gateway: label,
      clients: clientIdx.length,
      "runs held": gatewayIdx.reduce((n, g) => n + rooms.filter((_, r) => r % o.gateways === g).length, 0),
      "frames/client max": Math.max(...frames),
      "min/client": Math.min(...frames),
      "p50 ms": percentile(sorted, 50),
      "p95 ms": percentile(sorted, 95),
      "p99 ms": percentile(sorted, 99),
      "max ms": sorted.at(-1) ?? NaN,
      dropped: gatewayIdx.reduce((n, g) => n + servers[g]!.debug.fanoutStats().dropped - fanoutBefore[g]!.dropped, 0),
      "backlog max": Math.max(...gatewayIdx.map((g) => samples[g]!.maxBacklog)),
      "backlog avg 1st/2nd half": `${average(backlog.slice(0, half)).toFixed(2)}/${average(backlog.slice(half)).toFixed(2)}`,
      // the gateways share this process's event loop: one figure for all (see README)
      "loop p50 ms": Math.max(...loop.map((l) => l.p50)).toFixed(1),
      "loop p99 ms": Math.max(...loop.map((l) => l.p99)).toFixed(1),
      "loop max ms": Math.max(...loop.map((l) => l.max)).toFixed(1),
    });
  };
  const all = targets.map((_, i) => i);
  servers.forEach((_, g) =>
    row(
      String(g + 1),
      all.filter((i) => targets[i]!.gateway === g),
      [g],
    ),
  );
  row(
    "all",
    all,
    servers.map((_, g) => g),
  );
  console.log(
    `runs: ${finished.map((u) => u.run.status).join(", ")} in ${wallS.toFixed(1)} s; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.table(rows);
  for (const s of starters) s.close();
  for (const server of servers) await server.close();
  await f.cleanup();
}
