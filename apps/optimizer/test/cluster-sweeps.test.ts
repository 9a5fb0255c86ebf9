/**
 * Sweeps in the cluster on real parts: two gateways (role gateway: they run no job; cap of one
 * active job per user), two worker processes, the local Redis under this file's own key prefix,
 * one database and DATA_DIR. A sweep queued through one gateway runs its cells on the workers,
 * one job per cell; clients of both gateways see its grid and frames; one sweep at a time per
 * room holds across gateways; `kill -9` of the worker running a cell → another worker runs that
 * cell again and goes on (finished ones kept), the Sweep row following; a late joiner on the
 * other gateway gets the grid; a cell promoted there starts the full-size run from the cell's
 * image. With one worker left: another user's short run starts before a maximal sweep's second
 * cell; the cap counts a going sweep on every gateway; `sweep:cancel` by the room's owner and by
 * the starter (whose running cell the worker stops); a gateway removes ended sweeps' files after
 * the TTL and ends the rows of sweeps Redis lost. Prints the time to take the sweep over.
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
import { serializeRoomDocument } from "@atelier/db";
import fs from "node:fs";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;
const AXES = [
  { param: "styleWeight", values: [10, 10000] },
  // TV 1000 against 0: the cells' pictures part, so a wrong cell promoted shows in the pixels
  { param: "tvWeight", values: [0, 1000] },
];
/**
 * long enough per cell to kill the worker in the middle of one (the kill lands a few iterations
 * into cell 1), and for the cells' pictures to part (sweeps.test.ts needs 20); each iteration
 * more costs ~60 ms of CPU per cell at 48 px
 */
const CELL_ITERATIONS = 40;

let f: Fixture;
let gateways: OptimizerServer[] = [];
let workers: WorkerProcess[] = [];
const clients: Client[] = [];

async function joined(gateway: OptimizerServer, user: Fixture["users"]["owner"]): Promise<Client> {
  return (await joinRoom(gateway, user, f.roomId, clients)).socket;
}

const allCompleted = (sweep: SweepInfo) => sweep.cells.every((c) => c.status === "completed");
const ended = (sweep: Pick<SweepInfo, "cells">) =>
  sweep.cells.every((c) => c.status !== "queued" && c.status !== "running");
/** the sweep's database row: its status and its cells' state */
async function row(sweepId: string): Promise<{ status: string; cells: SweepInfo["cells"] }> {
  const r = await f.db.sweep.findUniqueOrThrow({ where: { id: sweepId } });
  return {
    status: r.status,
    cells: (JSON.parse(r.cells) as { info: SweepInfo["cells"][number] }[]).map((c) => c.info),
  };
}
const finalFrames = (frames: SweepFrame[], sweepId: string) =>
  new Set(frames.filter((fr) => fr.sweepId === sweepId && fr.mime === "image/png").map((fr) => fr.cell));

describe.runIf(testDatabaseProvider() === "postgresql")("a sweep in the cluster", () => {
  let sweep: SweepInfo;

  beforeAll(async () => {
    f = await createFixture("cluster-sweeps");
    await setDocument(f, tinyDocument(f, { size: 64, iterations: 40, tvWeight: 0.001, init: "style" }));
    for (let i = 0; i < 2; i++)
      gateways.push(
        await startServer(f, {
          redisUrl: REDIS_URL,
          role: "gateway",
          redisPrefix: PREFIX,
          limits: { activeRunsPerUser: 1 },
        }),
      );
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

  it("runs its cells on the workers, reaches both gateways' clients, and survives kill -9 of a worker (row state)", async () => {
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
    // the row is written before the sweep is queued
    expect((await row(sweepId)).status).toMatch(/queued|running/);

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
    const cell1 = (l: Record<string, unknown>) => l.sweepId === sweepId && l.cell === 1;
    const holderIndex = await Promise.race(
      workers.map((w, i) => w.waitForLog("sweep.cell_started", cell1).then(() => i)),
    );
    const holder = workers[holderIndex]!;
    const other = workers[1 - holderIndex]!;
    // the row shows the sweep going, cell 0 done and cell 1 under way
    await waitUntil(async () => (await row(sweepId)).cells[1]!.status === "running", "the row shows cell 1 running");
    expect(await row(sweepId)).toMatchObject({ status: "running", cells: [{ status: "completed" }, {}, {}, {}] });
    const killedAt = Date.now();
    await holder.kill("SIGKILL");

    // the other worker takes the cell over: the finished cell is kept, the rest run there
    await other.waitForLog("sweep.cell_started", cell1, 45_000);
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
    // and the row says so: resumed, then ended with every cell completed
    await waitUntil(async () => (await row(sweepId)).status === "ended", "the row says the sweep ended");
    expect((await row(sweepId)).cells.every((c) => c.status === "completed")).toBe(true);
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
    // its first frame is all this test looks at: cancelled now, not after the comparisons below
    const end = waitFor(late, "run:update", (u) => u.run.runId === reply.run.runId && u.run.status === "cancelled");
    await request(late, "run:cancel", { roomId: f.roomId });
    // from cell 2's image: far from the content photo (the room starts from its style image) and from
    // cell 1's, whose values both differ
    const [toCell, toOther, toContent] = await Promise.all(
      [
        path.join(f.dataDir, "sweeps", sweep.sweepId, "2.png"),
        path.join(f.dataDir, "sweeps", sweep.sweepId, "1.png"),
        imageFilePath(await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } }), { dataDir: f.dataDir }),
      ].map(async (file) => pixelDistance(first, await imageAt(file, first.width, first.height))),
    );
    console.log(
      `[cluster-sweeps] promoted run's first frame: ${toCell}, cell 1 ${toOther}, content photo ${toContent}`,
    );
    expect(toCell).toBeLessThan(0.3 * toContent!);
    expect(toCell).toBeLessThan(0.5 * toOther!);
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

  it("with one worker left: another user's short run goes before a maximal sweep's second cell; cap; owner's cancel", async () => {
    const [a, b] = gateways as [OptimizerServer, OptimizerServer];
    const editor = await joined(a, f.users.editor);
    const owner = await joined(b, f.users.owner);
    const viewer = await joined(b, f.users.viewer);
    const grid = [
      { param: "styleWeight", values: [10, 100, 1000, 10000] },
      { param: "tvWeight", values: [0, 0.01, 0.1, 1] },
    ];
    // the run holds the worker to its end before the second cell starts: 3 iterations show the
    // order as well as the room's 40 (~3.5 s of CPU at 64 px)
    const short = await request(owner, "doc:edit", { roomId: f.roomId, field: "iterations", value: 3, baseVersion: 0 });
    if (!short.ok) throw new Error(short.error);
    const started = await request(editor, "sweep:start", { roomId: f.roomId, axes: grid, size: 32, iterations: 10 });
    if (!started.ok) throw new Error(started.error);
    const sweepId = started.sweep.sweepId;
    expect(started.sweep.cells).toHaveLength(16);
    const order: string[] = [];
    const secondCell = waitFor(
      owner,
      "sweep:update",
      (u) => {
        const going = u.sweep.sweepId === sweepId && u.sweep.cells[1]!.status !== "queued";
        if (going) order.push("second cell");
        return going;
      },
      90_000,
    );
    const runGoing = waitFor(
      owner,
      "run:update",
      (u) => {
        if (u.run.status === "running") order.push("run running");
        return u.run.status === "running";
      },
      90_000,
    );
    const run = await request(owner, "run:start", { roomId: f.roomId });
    if (!run.ok) throw new Error(run.error);

    // the cap (one active job here) counts the editor's going sweep on the other gateway too
    const room2 = await f.db.room.create({
      data: {
        name: "Second room",
        ownerId: f.users.owner.id,
        document: serializeRoomDocument(tinyDocument(f, { size: 64, iterations: 40 })),
        members: {
          create: [
            { userId: f.users.owner.id, role: "owner" },
            { userId: f.users.editor.id, role: "editor" },
          ],
        },
      },
    });
    const elsewhere = await connect(b, f.users.editor);
    clients.push(elsewhere);
    expect((await request(elsewhere, "room:join", { roomId: room2.id, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    for (const event of ["sweep:start", "run:start"] as const) {
      const body =
        event === "sweep:start" ? { roomId: room2.id, axes: AXES, size: 32, iterations: 2 } : { roomId: room2.id };
      expect(await request(elsewhere, event, body)).toMatchObject({ ok: false, code: "limit" });
    }
    expect(await f.db.sweep.count({ where: { roomId: room2.id } })).toBe(0);

    await Promise.all([secondCell, runGoing]);
    expect(order).toEqual(["run running", "second cell"]);

    // only its starter and the room's owner may cancel it; the owner does, seen on both gateways
    expect(await request(viewer, "sweep:cancel", { roomId: f.roomId, sweepId })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    const seen = waitFor(editor, "sweep:update", (u) => u.sweep.sweepId === sweepId && ended(u.sweep), 60_000);
    const cancelled = await request(owner, "sweep:cancel", { roomId: f.roomId, sweepId });
    if (!cancelled.ok) throw new Error(cancelled.error);
    expect((await seen).sweep.cells.filter((c) => c.status === "cancelled").length).toBeGreaterThanOrEqual(14);
    await waitUntil(async () => (await row(sweepId)).status === "ended", "the row says the sweep ended");
    // the run may have completed meanwhile (it ran before the second cell): stop it if not
    await request(owner, "run:cancel", { roomId: f.roomId });
    await waitUntil(
      async () =>
        (await f.db.run.count({ where: { authorId: f.users.owner.id, status: { in: ["queued", "running"] } } })) === 0,
      "the owner's run ended",
    );
  });

  it("its starter cancels it while a cell runs: the worker holding the cell stops it, the row ends", async () => {
    const [a, b] = gateways as [OptimizerServer, OptimizerServer];
    const editor = await joined(b, f.users.editor);
    const viewer = await joined(a, f.users.viewer);
    const running = waitFor(viewer, "sweep:update", (u) => u.sweep.cells[0]!.status === "running", 60_000);
    const started = await request(editor, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 200 });
    if (!started.ok) throw new Error(started.error);
    const sweepId = started.sweep.sweepId;
    expect((await running).sweep.sweepId).toBe(sweepId);
    const seen = waitFor(viewer, "sweep:update", (u) => u.sweep.sweepId === sweepId && ended(u.sweep), 30_000);
    const reply = await request(editor, "sweep:cancel", { roomId: f.roomId, sweepId });
    if (!reply.ok) throw new Error(reply.error);
    // the running cell stopped part-way (not run to its end), the others never ran
    const cells = (await seen).sweep.cells;
    expect(cells.every((c) => c.status === "cancelled")).toBe(true);
    expect(cells[0]!.iteration).toBeLessThan(200);
    await waitUntil(async () => (await row(sweepId)).status === "ended", "the row says the sweep ended");
    expect((await row(sweepId)).cells.every((c) => c.status === "cancelled")).toBe(true);
    // again: nothing changes
    const again = await request(editor, "sweep:cancel", { roomId: f.roomId, sweepId });
    if (!again.ok) throw new Error(again.error);
    expect(again.sweep.cells).toEqual(cells);
  });

  it("a gateway removes ended sweeps' files after the TTL and ends the rows of sweeps Redis lost", async () => {
    const cellImage = path.join(f.dataDir, "sweeps", sweep.sweepId, "2.png");
    expect(fs.existsSync(cellImage)).toBe(true);
    // a going row whose sweep Redis no longer has (a Redis that lost its state), queued long ago
    const lost = await f.db.sweep.create({
      data: {
        id: "sweep-lost-1",
        roomId: f.roomId,
        authorId: f.users.editor.id,
        request: JSON.stringify({ axes: AXES, size: 48, iterations: 4, authorName: "Bob" }),
        // its first cell done, the rest queued
        cells: JSON.stringify(
          (
            JSON.parse((await f.db.sweep.findUniqueOrThrow({ where: { id: sweep.sweepId } })).cells) as {
              info: object;
            }[]
          ).map((c, i) => ({ ...c, info: { ...c.info, status: i === 0 ? "completed" : "queued" } })),
        ),
        status: "running",
        createdAt: new Date(Date.now() - 10 * 60_000),
      },
    });
    // a gateway with a 1 s TTL: its housekeeping runs as it starts, then every second
    const third = await startServer(f, {
      redisUrl: REDIS_URL,
      role: "gateway",
      redisPrefix: PREFIX,
      sweepFilesTtlMs: 1_000,
    });
    gateways.push(third);
    await waitUntil(
      async () => (await f.db.sweep.findUniqueOrThrow({ where: { id: sweep.sweepId } })).filesRemovedAt !== null,
      "the first sweep's files are marked removed",
    );
    expect(fs.existsSync(cellImage)).toBe(false);
    const owner = await joined(third, f.users.owner);
    expect(await request(owner, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 2 })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    const lostRow = await row(lost.id);
    expect(lostRow.status).toBe("ended");
    expect(lostRow.cells.every((c) => c.status !== "queued" && c.status !== "running")).toBe(true);
    expect(lostRow.cells.some((c) => c.status === "failed" && /lost this sweep/.test(c.error ?? ""))).toBe(true);
  });
});
