/**
 * Sweeps in the cluster on real parts: two gateways (role gateway: they run no job), two worker
 * processes, the local Redis under this file's own key prefix, one database and DATA_DIR. A
 * sweep queued through one gateway runs on a worker as one job; clients of both gateways see
 * its grid and frames; one sweep at a time per room holds across gateways; `kill -9` of the
 * worker running it → the other worker goes on with the cells left (finished ones kept); a late
 * joiner on the other gateway gets the grid; a cell promoted there starts the full-size run
 * from the cell's image. Prints the time to take the sweep over.
 * Needs PostgreSQL (several processes share one database): it runs in the PostgreSQL pass.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { imageFilePath } from "@atelier/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseProvider } from "@atelier/db/testing";
import type { SweepFrame, SweepInfo } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  imageAt,
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
  joinRoom,
  scaled,
} from "./support.ts";
import { spawnWorker, type WorkerProcess } from "./support-workers.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;
const AXES = [
  { param: "styleWeight", values: [10, 10000] },
  { param: "tvWeight", values: [0, 1] },
];
/** long enough per cell to kill the worker in the middle of one */
const CELL_ITERATIONS = 60;

let f: Fixture;
let gateways: OptimizerServer[] = [];
let workers: WorkerProcess[] = [];
const clients: Client[] = [];

async function joined(gateway: OptimizerServer, user: Fixture["users"]["owner"]): Promise<Client> {
  return (await joinRoom(gateway, user, f.roomId, clients)).socket;
}

const allCompleted = (sweep: SweepInfo) => sweep.cells.every((c) => c.status === "completed");
const finalFrames = (frames: SweepFrame[], sweepId: string) =>
  new Set(frames.filter((fr) => fr.sweepId === sweepId && fr.mime === "image/png").map((fr) => fr.cell));

describe.runIf(testDatabaseProvider() === "postgresql")("a sweep in the cluster", () => {
  let sweep: SweepInfo;

  beforeAll(async () => {
    f = await createFixture("cluster-sweeps");
    await setDocument(f, tinyDocument(f, { size: 64, iterations: 40, tvWeight: 0.001 }));
    for (let i = 0; i < 2; i++)
      gateways.push(await startServer(f, { redisUrl: REDIS_URL, role: "gateway", redisPrefix: PREFIX }));
    workers = [spawnWorker(f, REDIS_URL, PREFIX), spawnWorker(f, REDIS_URL, PREFIX)];
    await Promise.all(workers.map((w) => w.waitForLog("worker.ready", undefined, 90_000)));
  }, 120_000);

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all(workers.map((w) => w.kill("SIGKILL")));
    for (const g of gateways) await g.close();
    gateways = [];
    await f?.cleanup();
  });

  it("runs on a worker, reaches both gateways' clients, and survives kill -9 of that worker", async () => {
    const [a, b] = gateways as [OptimizerServer, OptimizerServer];
    const editor = await joined(a, f.users.editor);
    const viewer = await joined(b, f.users.viewer);
    const viewerFrames = collect(viewer, "sweep:frame");
    const viewerUpdates = collect(viewer, "sweep:update");
    const reply = await request(editor, "sweep:start", {
      roomId: f.roomId,
      axes: AXES,
      size: 48,
      iterations: CELL_ITERATIONS,
    });
    if (!reply.ok) throw new Error(reply.error);
    const sweepId = reply.sweep.sweepId;
    expect(reply.sweep.cells).toHaveLength(4);

    // one sweep at a time per room, whichever gateway is asked
    const owner = await joined(b, f.users.owner);
    expect(
      await request(owner, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 3 }),
    ).toMatchObject({ ok: false, code: "conflict" });

    // the first cell finishes and the second is under way on one worker
    await waitFor(
      viewer,
      "sweep:update",
      (u) => u.sweep.sweepId === sweepId && u.sweep.cells[0]!.status === "completed",
      90_000,
    );
    await waitFor(viewer, "sweep:frame", (fr) => fr.sweepId === sweepId && fr.cell === 1, 60_000);
    const holderIndex = await Promise.race(
      workers.map((w, i) => w.waitForLog("sweep.started", (l) => l.sweepId === sweepId).then(() => i)),
    );
    const holder = workers[holderIndex]!;
    const other = workers[1 - holderIndex]!;
    const killedAt = Date.now();
    await holder.kill("SIGKILL");

    // the other worker takes the sweep over: the finished cell is kept, the rest run there
    await other.waitForLog("sweep.started", (l) => l.sweepId === sweepId, 45_000);
    const takenOverMs = Date.now() - killedAt;
    const done = await waitFor(
      viewer,
      "sweep:update",
      (u) => u.sweep.sweepId === sweepId && allCompleted(u.sweep),
      120_000,
    );
    sweep = done.sweep;
    console.log(`[cluster-sweeps] kill -9 of the worker running cell 1 → taken over in ${takenOverMs} ms`);
    expect(takenOverMs).toBeLessThan(scaled(30_000));
    expect(sweep.cells.every((c) => c.iteration === CELL_ITERATIONS)).toBe(true);
    // cell 0 ran once: it never went back to queued or running after it completed
    const cell0 = viewerUpdates.filter((u) => u.sweep.sweepId === sweepId).map((u) => u.sweep.cells[0]!.status);
    expect(cell0.slice(cell0.indexOf("completed"))).not.toContain("running");
    await other.waitForLog("sweep.ended", (l) => l.sweepId === sweepId, 10_000);
    // every cell's final image reached the other gateway's client
    await waitUntil(() => finalFrames(viewerFrames, sweepId).size === 4, "the viewer has every cell's final image");

    // the gateways ran no engine thread
    for (const gateway of gateways) {
      const health = (await (await fetch(`${gateway.url}/health`)).json()) as { workers: { threads: number } };
      expect(health.workers.threads).toBe(0);
    }
  });

  it("a late joiner on either gateway gets the grid, and a cell promoted there starts the run from its image", async () => {
    const b = gateways[1]!;
    const late = await connect(b, f.users.owner);
    clients.push(late);
    const lateUpdate = waitFor(late, "sweep:update");
    const lateFrames = collect(late, "sweep:frame");
    expect((await request(late, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    expect((await lateUpdate).sweep).toMatchObject({ sweepId: sweep.sweepId, queuePosition: null });
    await waitUntil(() => finalFrames(lateFrames, sweep.sweepId).size === 4, "the late joiner has every final image");

    // a sweep of another room cannot be promoted here; a missing cell is refused
    expect(await request(late, "sweep:promote", { roomId: f.roomId, sweepId: "sweep-nope", cell: 0 })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await request(late, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 9 })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    const reply = await request(late, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 2 });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.run.params).toMatchObject({ styleWeight: 10000, tvWeight: 0, size: 64, iterations: 40 });
    const first = await previewImage(await waitFor(late, "run:preview", (p) => p.runId === reply.run.runId, 60_000));
    const cellImage = await imageAt(path.join(f.dataDir, "sweeps", sweep.sweepId, "2.png"), first.width, first.height);
    const contentRow = await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } });
    const content = await imageAt(imageFilePath(contentRow, { dataDir: f.dataDir }), first.width, first.height);
    expect(pixelDistance(first, cellImage)).toBeLessThan(pixelDistance(first, content));
    const end = waitFor(late, "run:update", (u) => u.run.runId === reply.run.runId && u.run.status === "cancelled");
    await request(late, "run:cancel", { roomId: f.roomId });
    await end;

    // the room may sweep again now that the first one ended
    const again = await request(late, "sweep:start", { roomId: f.roomId, axes: AXES, size: 32, iterations: 2 });
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    await waitFor(
      late,
      "sweep:update",
      (u) => u.sweep.sweepId === again.sweep.sweepId && allCompleted(u.sweep),
      60_000,
    );
  });
});
