/**
 * A worker process stopped gracefully (SIGTERM, as a deploy or Ctrl-C does) during a run:
 * it writes a fresh checkpoint, exits 0 and leaves the run `running`; the next worker to
 * start resumes it from that checkpoint (its first frame is close to the checkpoint, far from
 * the content photo: the room's init is noise) and completes it. The same for a sweep: the cell it
 * was running goes back to queued, the next worker runs the cells left. Real gateway, real
 * worker processes, the local Redis under this file's own key prefix.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeImage, resizeImage } from "@atelier/engine";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  createFixture,
  endSoonAt,
  imageAt,
  joinRoom,
  pixelDistance,
  previewImage,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  waitUntil,
  type Client,
  type Fixture,
} from "./support.ts";
import { spawnWorker, type WorkerProcess } from "./support-workers.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;

let f: Fixture;
let gateway: OptimizerServer;
const workers: WorkerProcess[] = [];
let client: Client | null = null;

beforeAll(async () => {
  f = await createFixture("cluster-worker-stop");
  await setDocument(
    f,
    tinyDocument(f, { size: 48, iterations: 80, multiscale: false, init: "noise", learningRate: 2 }),
  );
  gateway = await startServer(f, { redisUrl: REDIS_URL, role: "gateway", redisPrefix: PREFIX });
  workers.push(spawnWorker(f, REDIS_URL, PREFIX, { ATELIER_HEALTH_PORT: "0" }));
  await workers[0]!.waitForLog("worker.ready", undefined, 90_000);
}, 120_000);

afterAll(async () => {
  client?.close();
  await Promise.all(workers.map((w) => w.kill("SIGKILL")));
  await gateway?.close();
  await f?.cleanup();
});

describe("a worker stopped with SIGTERM", () => {
  it("checkpoints and lets go of its run; the next worker resumes it", async () => {
    client = (await joinRoom(gateway, f.users.owner, f.roomId)).socket;
    const frames = collect(client, "run:preview");
    const started = await request(client, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;
    const at = await waitFor(client, "run:stats", (s) => s.runId === runId && s.iteration >= 8, 90_000);

    const first = workers[0]!;
    // its health port (ATELIER_HEALTH_PORT) says it is well and running one job
    const ready = await first.waitForLog("worker.ready");
    const health = await fetch(`http://127.0.0.1:${String(ready.healthPort)}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, concurrency: 1, running: 1, redis: "ready" });
    const exited = new Promise<number | null>((resolve) => first.child.once("exit", (code) => resolve(code)));
    first.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.status).toBe("running");
    expect(row.iterations).toBeGreaterThanOrEqual(at.iteration);
    // read now: the next worker writes its own checkpoints to the same file
    const checkpoint = await decodeImage(path.join(f.dataDir, row.checkpointPath!), { label: "checkpoint" });
    // frames after the room hears of the takeover are the new worker's (the stopped one's last may still be on their way now)
    let framesBefore = -1;
    const told = waitFor(client, "room:activity", (a) => a.kind === "resumed" && a.runId === runId, 90_000).then(
      () => (framesBefore = frames.length),
    );

    const stoppedAt = Date.now();
    const next = spawnWorker(f, REDIS_URL, PREFIX);
    workers.push(next);
    const resumed = await next.waitForLog("run.resumed", (l) => l.runId === runId, 60_000);
    console.log(
      `[cluster-worker-stop] SIGTERM at iteration ≥ ${at.iteration}; a new worker resumed from iteration ` +
        `${String(resumed.iteration)} ${Date.now() - stoppedAt} ms later (including its start)`,
    );
    expect(Number(resumed.iteration)).toBeGreaterThanOrEqual(at.iteration);
    // the picture goes on from the checkpoint the stopped worker wrote
    await told;
    await waitUntil(() => frames.slice(framesBefore).some((p) => p.runId === runId), "a frame after the hand-over");
    const frame = await previewImage(frames.slice(framesBefore).find((p) => p.runId === runId)!);
    const toCheckpoint = pixelDistance(frame, await resizeImage(checkpoint, frame.width, frame.height));
    const toContent = pixelDistance(frame, await imageAt("tubingen.jpg", frame.width, frame.height));
    console.log(
      `[cluster-worker-stop] first frame after the hand-over: ${toCheckpoint.toFixed(1)} from the checkpoint, ${toContent.toFixed(1)} from the content photo`,
    );
    expect(toCheckpoint).toBeLessThan(toContent / 2);
    // it completes on the next worker: brought near (a live edit of its iterations, which that
    // worker follows) now that the hand-over is behind it, not the ~60 iterations left at 48 px
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
  });

  it("lets go of its sweep: the cell it was running goes back to queued, the next worker runs the cells left", async () => {
    const socket = client!;
    const updates = collect(socket, "sweep:update");
    const reply = await request(socket, "sweep:start", {
      roomId: f.roomId,
      axes: [{ param: "styleWeight", values: [10, 1000, 100000] }],
      size: 32,
      iterations: 40,
    });
    if (!reply.ok) throw new Error(reply.error);
    const sweepId = reply.sweep.sweepId;
    await waitFor(
      socket,
      "sweep:update",
      (u) => u.sweep.sweepId === sweepId && u.sweep.cells[0]!.status === "completed",
      90_000,
    );
    await waitFor(socket, "sweep:frame", (fr) => fr.sweepId === sweepId && fr.cell === 1, 60_000);

    const current = workers.at(-1)!;
    const exited = new Promise<number | null>((resolve) => current.child.once("exit", (code) => resolve(code)));
    current.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(current.lines.some((l) => l.event === "sweep.left" && l.sweepId === sweepId)).toBe(true);
    // the room sees the stopped cell waiting again, not failed or cancelled
    await waitUntil(
      () => {
        const last = updates.filter((u) => u.sweep.sweepId === sweepId).at(-1)?.sweep;
        return last?.cells.map((c) => c.status).join() === "completed,queued,queued";
      },
      "the room hears the stopped cell is queued again",
      10_000,
    );

    const next = spawnWorker(f, REDIS_URL, PREFIX);
    workers.push(next);
    await next.waitForLog("sweep.cell_started", (l) => l.sweepId === sweepId && l.cell === 1, 60_000);
    const done = await waitFor(
      socket,
      "sweep:update",
      (u) => u.sweep.sweepId === sweepId && u.sweep.cells.every((c) => c.status === "completed"),
      90_000,
    );
    expect(done.sweep.cells.every((c) => c.iteration === 40)).toBe(true);
  });
});
