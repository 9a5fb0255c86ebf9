/**
 * Cluster runs on real parts: a gateway (ATELIER_ROLE=gateway, runs no job), two worker
 * processes (`src/cluster/worker-process.ts`, BullMQ on the local Redis under this file's own key
 * prefix), the fixture database and DATA_DIR shared by all. `kill -9` of the worker holding a
 * running job: the other worker resumes it from its last checkpoint (not from iteration 0),
 * the room is told, and the run completes. Prints the measured time to resume.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  endSoonAt,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  type Client,
  type Fixture,
  scaled,
} from "./support.ts";
import { spawnWorker, type WorkerProcess } from "./support-workers.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;

let f: Fixture;
let gateway: OptimizerServer;
/** a second gateway: its late joiner gets the run from Redis, not from the gateway that started it */
let gateway2: OptimizerServer;
let workers: WorkerProcess[] = [];
let client: Client | null = null;
let lateClient: Client | null = null;

beforeAll(async () => {
  f = await createFixture("cluster-runs");
  // long enough to be killed mid-way after a few checkpoints (every 5 iterations)
  await setDocument(f, tinyDocument(f, { size: 48, iterations: 120, multiscale: false }));
  gateway = await startServer(f, { redisUrl: REDIS_URL, role: "gateway", redisPrefix: PREFIX });
  gateway2 = await startServer(f, { redisUrl: REDIS_URL, role: "gateway", redisPrefix: PREFIX });
  workers = [spawnWorker(f, REDIS_URL, PREFIX), spawnWorker(f, REDIS_URL, PREFIX)];
  await Promise.all(workers.map((w) => w.waitForLog("worker.ready", undefined, 90_000)));
}, 120_000);

afterAll(async () => {
  client?.close();
  lateClient?.close();
  await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  await gateway?.close();
  await gateway2?.close();
  await f?.cleanup();
});

describe("a run in the cluster", () => {
  it("survives kill -9 of its worker: another worker resumes it from its checkpoint", async () => {
    client = await connect(gateway, f.users.owner);
    const joined = await request(client, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    expect(joined.ok).toBe(true);
    const stats = collect(client, "run:stats");
    const activities = collect(client, "room:activity");
    const started = await request(client, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;

    // the run gets going on one worker and writes a checkpoint or two
    await waitFor(client, "run:stats", (s) => s.runId === runId && s.iteration >= 12, 90_000);
    const holderIndex = await Promise.race(
      workers.map((w, i) => w.waitForLog("run.started", (l) => l.runId === runId).then(() => i)),
    );
    const holder = workers[holderIndex]!;
    const other = workers[1 - holderIndex]!;
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.status).toBe("running");
    expect(row.checkpointPath).not.toBeNull();

    const killedAt = Date.now();
    const lastBefore = stats.at(-1)!.iteration;
    await holder.kill("SIGKILL");

    // the other worker takes it over; the room hears about it (run:update running, new stats)
    const resumedLog = await other.waitForLog("run.resumed", (l) => l.runId === runId, 45_000);
    // the dead worker's last stats arrived seconds ago: these are the new holder's
    const firstAfter = await waitFor(
      client,
      "run:stats",
      (s) => s.runId === runId && s.iteration > Number(resumedLog.iteration),
      45_000,
    );
    const resumeMs = Date.now() - killedAt;
    console.log(
      `[cluster-runs] kill -9 at iteration ${lastBefore} → resumed on the other worker from iteration ` +
        `${String(resumedLog.iteration)} in ${resumeMs} ms (first stats after: iteration ${firstAfter.iteration})`,
    );
    expect(Number(resumedLog.iteration)).toBeGreaterThan(0);
    expect(firstAfter.iteration).toBeGreaterThan(Number(resumedLog.iteration));
    expect(resumeMs).toBeLessThan(scaled(30_000));
    // the room is told in words too
    expect(activities.some((a) => a.kind === "resumed" && a.runId === runId && a.author.name === "Ada")).toBe(true);

    // a late joiner on the other gateway: the run, its loss history (redone iterations not doubled), a preview
    lateClient = await connect(gateway2, f.users.viewer);
    const latePreview = waitFor(lateClient, "run:preview", (p) => p.runId === runId, 30_000);
    const late = await request(lateClient, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!late.ok) throw new Error(late.error);
    expect(late.state.run).toMatchObject({ runId, status: "running" });
    const iterations = late.state.history.map((h) => h.iteration);
    expect(iterations.length).toBeGreaterThan(Number(resumedLog.iteration));
    expect(new Set(iterations).size).toBe(iterations.length);
    expect((await latePreview).iteration).toBeGreaterThan(0);

    // it completes on the other worker: brought near (a live edit of its iterations, which that
    // worker follows) now that the take-over is behind it, not the ~100 iterations left at 48 px
    const last = await endSoonAt(client, runId);
    const completed = waitFor(
      client,
      "run:update",
      (u) => u.run.runId === runId && u.run.status === "completed",
      90_000,
    );
    const shorter = await request(client, "doc:edit", {
      roomId: f.roomId,
      field: "iterations",
      value: last,
      baseVersion: 0,
    });
    expect(shorter.ok).toBe(true);
    const done = await completed;
    expect(done.run.iteration).toBe(last);
    const ended = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(ended.status).toBe("completed");
    expect(ended.finalImageId).not.toBeNull();
    expect(ended.iterations).toBe(last);
  });

  it("takes live edits and cancels on the worker that holds the run", async () => {
    const other = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    const socket = await connect(gateway2, f.users.editor);
    try {
      const joined = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
      if (!joined.ok) throw new Error(joined.error);
      // long again (the test before shortened the room's runs): it is cancelled part-way
      const long = await request(socket, "doc:edit", {
        roomId: f.roomId,
        field: "iterations",
        value: 120,
        baseVersion: joined.state.version,
      });
      expect(long.ok).toBe(true);
      const started = await request(socket, "run:start", { roomId: f.roomId });
      if (!started.ok) throw new Error(started.error);
      const runId = started.run.runId;
      await waitFor(socket, "run:stats", (s) => s.runId === runId && s.iteration >= 3, 60_000);

      const edit = await request(socket, "doc:edit", {
        roomId: f.roomId,
        field: "styleWeight",
        value: 777,
        baseVersion: joined.state.version,
      });
      expect(edit.ok).toBe(true);
      await other.waitForLog("run.weights_applied", (l) => l.runId === runId, 30_000);

      const cancelled = waitFor(
        socket,
        "run:update",
        (u) => u.run.runId === runId && u.run.status === "cancelled",
        30_000,
      );
      const cancel = await request(socket, "run:cancel", { roomId: f.roomId });
      expect(cancel.ok).toBe(true);
      await cancelled;
      const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
      expect(row.status).toBe("cancelled");
      expect(row.activeRoomId).toBeNull();
      // the record keeps the params the run really used, live edit included
      expect((JSON.parse(row.params) as { styleWeight: number }).styleWeight).toBe(777);
    } finally {
      socket.close();
    }
  });
});
