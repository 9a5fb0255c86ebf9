/**
 * Sweeps over real Socket.IO with real tiny runs: a 2×2 grid queued as one batch streams each
 * cell's frames to everyone in the room, ends with each cell's final image, a late joiner gets
 * the grid, viewers cannot start one, bad requests change nothing, and promoting a cell makes its
 * values the room's and starts a run from its image.
 */
import fs from "node:fs";
import path from "node:path";
import { SharedDirectory } from "@atelier/files";
import { imageFilePath } from "@atelier/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SweepFrame, SweepInfo } from "@atelier/protocol";
import { promotedChanges } from "../src/sweeps/sweep-manager.ts";
import { rowCells, SweepRows } from "../src/sweeps/sweep-rows.ts";
import { cellJobId, currentCell, newCellInfo } from "../src/sweeps/sweep-cell.ts";
import { createLogger } from "../src/common/log.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  pixelDistance,
  previewImage,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  waitUntil,
  imageAt,
  type Client,
  type Fixture,
  joinRoom,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

let f: Fixture;
let server: OptimizerServer;
let owner: Client;
let editor: Client;
let viewer: Client;
const clients: Client[] = [];

async function joined(user: Fixture["users"]["owner"]): Promise<Client> {
  return (await joinRoom(server, user, f.roomId, clients)).socket;
}

/** enough for the cells' pictures to part (with TV 1000 against 0): a wrong cell promoted shows in the pixels */
const CELL_ITERATIONS = 20;

const AXES = [
  { param: "styleWeight", values: [10, 10000] },
  { param: "tvWeight", values: [0, 1000] },
];

beforeAll(async () => {
  f = await createFixture("sweeps");
  await setDocument(f, tinyDocument(f, { size: 64, iterations: 50, init: "style" }));
  server = await startServer(f);
  owner = await joined(f.users.owner);
  editor = await joined(f.users.editor);
  viewer = await joined(f.users.viewer);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await f?.cleanup();
});

describe("promotedChanges", () => {
  it("brings only the swept values into the room", () => {
    const document = tinyDocument(f, { size: 512, iterations: 300, styleWeight: 100, tvWeight: 0.001 });
    const cell = {
      index: 0,
      values: { styleWeight: 10 },
      params: { ...document, contentImageId: f.contentImageId, size: 48, iterations: 5, styleWeight: 10 },
    };
    expect(promotedChanges(document, cell)).toEqual([{ field: "styleWeight", before: 100, after: 10 }]);
  });
});

describe("a sweep's current cell (cluster: the one a BullMQ job is for)", () => {
  const cells = (...statuses: SweepInfo["cells"][number]["status"][]) =>
    statuses.map((status, index) => ({ ...newCellInfo({ index, values: {} }), status }));
  it("is the first cell queued or running, null once every cell ended", () => {
    expect(currentCell({ cells: cells("queued", "queued") })).toBe(0);
    expect(currentCell({ cells: cells("completed", "running", "queued") })).toBe(1);
    expect(currentCell({ cells: cells("completed", "failed", "queued") })).toBe(2);
    expect(currentCell({ cells: cells("completed", "cancelled", "cancelled") })).toBeNull();
  });
  it("has a job id per cell without the colon BullMQ refuses", () => {
    expect(cellJobId("sweep-n1-abc-1", 3)).toBe("sweep-n1-abc-1-cell-3");
    expect(cellJobId("sweep-n1-abc-1", 3)).not.toContain(":");
  });
  it("is kept in the row with each cell's settings; a cell missing from the state is queued", () => {
    const planned = [0, 1].map((index) => ({
      index,
      values: { styleWeight: index },
      params: { ...tinyDocument(f), contentImageId: f.contentImageId, size: 32, iterations: 2 },
    }));
    const kept = rowCells(planned, { cells: cells("completed") });
    expect(kept.map((c) => [c.cell.index, c.info.status])).toEqual([
      [0, "completed"],
      [1, "queued"],
    ]);
  });
});

describe("sweeps", () => {
  it("refuses viewers, bad parameters and bad values, changing nothing", async () => {
    expect(
      await request(viewer, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 3 }),
    ).toMatchObject({ ok: false, code: "forbidden" });
    expect(
      await request(editor, "sweep:start", { roomId: f.roomId, axes: [{ param: "size", values: [1, 2] }] }),
    ).toMatchObject({ ok: false, code: "invalid" });
    expect(
      await request(editor, "sweep:start", { roomId: f.roomId, axes: [{ param: "styleScale", values: [1, 50] }] }),
    ).toMatchObject({ ok: false, code: "invalid" });
    expect(
      await request(editor, "sweep:start", { roomId: f.roomId, axes: [{ param: "styleBlend", values: [0, 1] }] }),
    ).toMatchObject({ ok: false, code: "invalid", error: "a style blend sweep needs exactly two styles in the room" });
  });

  let sweep: SweepInfo;
  it("a 2×2 sweep streams every cell's frames to everyone and ends with each cell's final image", async () => {
    const viewerFrames = collect(viewer, "sweep:frame");
    const ownerFrames = collect(owner, "sweep:frame");
    const activity = waitFor(viewer, "room:activity", (a) => a.kind === "started-sweep");
    const reply = await request(editor, "sweep:start", {
      roomId: f.roomId,
      axes: AXES,
      size: 48,
      iterations: CELL_ITERATIONS,
    });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.sweep.cells.map((c) => c.values)).toEqual([
      { styleWeight: 10, tvWeight: 0 },
      { styleWeight: 10, tvWeight: 1000 },
      { styleWeight: 10000, tvWeight: 0 },
      { styleWeight: 10000, tvWeight: 1000 },
    ]);
    expect(await activity).toMatchObject({ author: { userId: f.users.editor.id }, runId: reply.sweep.sweepId });
    // a second sweep while one is going is refused
    expect(
      await request(owner, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 4 }),
    ).toMatchObject({ ok: false, code: "conflict" });
    const done = await waitFor(
      viewer,
      "sweep:update",
      (u) => u.sweep.sweepId === reply.sweep.sweepId && u.sweep.cells.every((c) => c.status === "completed"),
    );
    sweep = done.sweep;
    expect(sweep.cells.every((c) => c.iteration === CELL_ITERATIONS)).toBe(true);
    // the cells ran in the service's engine processes, on ONNX Runtime (the default backend)
    expect(sweep.cells.map((c) => c.backend)).toEqual(["onnx", "onnx", "onnx", "onnx"]);
    for (const frames of [viewerFrames, ownerFrames]) {
      const finals = [0, 1, 2, 3].map((i) => frames.filter((fr) => fr.cell === i && fr.mime === "image/png").at(-1));
      expect(finals.every((fr) => fr && fr.width === 48 && fr.iteration === CELL_ITERATIONS)).toBe(true);
    }
    // the cells differ: the swept values reach the engine (same seed and init: ignored values would give identical pixels)
    const finals = await Promise.all(
      [0, 3].map((i) => {
        const frame = viewerFrames.filter((fr) => fr.cell === i && fr.mime === "image/png").at(-1)!;
        return previewImage({ ...frame, runId: `${frame.sweepId}-${i}` });
      }),
    );
    expect(pixelDistance(finals[0]!, finals[1]!)).toBeGreaterThan(0);

    // a late joiner gets the grid and each cell's final frame
    const late = await connect(server, f.users.owner);
    clients.push(late);
    const lateUpdate = waitFor(late, "sweep:update");
    const lateFrames: SweepFrame[] = collect(late, "sweep:frame");
    const join = await request(late, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    expect(join.ok).toBe(true);
    expect((await lateUpdate).sweep.sweepId).toBe(sweep.sweepId);
    await waitUntil(
      () => new Set(lateFrames.map((fr) => fr.cell)).size === 4,
      "the late joiner has every cell's frame",
    );
  });

  it("promoting a cell sets its values as the room's and starts the full-size run from its image", async () => {
    expect(await request(viewer, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 2 })).toMatchObject(
      { ok: false, code: "forbidden" },
    );
    expect(await request(owner, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 9 })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    const changes = collect(viewer, "doc:changed");
    const activity = waitFor(viewer, "room:activity", (a) => a.kind === "promoted");
    const reply = await request(owner, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 2 });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.run.params).toMatchObject({ styleWeight: 10000, tvWeight: 0, size: 64, iterations: 50 });
    expect((await activity).runId).toBe(reply.run.runId);
    // the room had TV weight 0.001: both swept values change, nothing else
    expect(changes.map((c) => [c.field, c.value])).toEqual([
      ["styleWeight", 10000],
      ["tvWeight", 0],
    ]);
    // it starts from the cell's image: not from the content photo, nor from cell 1's (both swept
    // values differ; cells 0 and 3, one value off, are too near cell 2's picture to tell apart here)
    const first = await previewImage(await waitFor(viewer, "run:preview", (p) => p.runId === reply.run.runId));
    // its first frame is all this test looks at: cancelled now, not after the comparisons below
    const end = waitFor(
      owner,
      "run:update",
      (u) => u.run.runId === reply.run.runId && u.run.status !== "running" && u.run.status !== "queued",
    );
    await request(owner, "run:cancel", { roomId: f.roomId });
    expect(first.width).toBe(64);
    const contentRow = await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } });
    const content = await imageAt(imageFilePath(contentRow, { dataDir: f.dataDir }), first.width, first.height);
    const cells = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        imageAt(path.join(f.dataDir, "sweeps", sweep.sweepId, `${i}.png`), first.width, first.height),
      ),
    );
    const toContent = pixelDistance(first, content);
    const toCells = cells.map((cell) => pixelDistance(first, cell));
    console.log(
      `[sweeps] promoted run's first frame: ${toCells.map((d) => d.toFixed(1)).join(", ")} from cells 0–3, ${toContent.toFixed(1)} from the content photo`,
    );
    expect(toCells[2]).toBeLessThan(0.3 * toContent);
    expect(toCells[2]).toBeLessThan(0.5 * toCells[1]!);
    expect((await end).run.status).toBe("cancelled");
  });

  it("cells are fair-queue jobs: another user's short run starts before a maximal (4×4) sweep's second cell", async () => {
    const grid = [
      { param: "styleWeight", values: [10, 100, 1000, 10000] },
      { param: "tvWeight", values: [0, 0.01, 0.1, 1] },
    ];
    // the run holds the one slot to its end before the second cell starts: 3 iterations show the
    // order as well as the room's 50 (which burnt ~4 s of CPU at 64 px)
    const short = await request(owner, "doc:edit", { roomId: f.roomId, field: "iterations", value: 3, baseVersion: 0 });
    if (!short.ok) throw new Error(short.error);
    const started = await request(editor, "sweep:start", { roomId: f.roomId, axes: grid, size: 48, iterations: 3 });
    if (!started.ok) throw new Error(started.error);
    expect(started.sweep.cells).toHaveLength(16);
    const order: string[] = [];
    const secondCell = waitFor(owner, "sweep:update", (u) => {
      const going = u.sweep.sweepId === started.sweep.sweepId && u.sweep.cells[1]!.status !== "queued";
      if (going) order.push("second cell");
      return going;
    });
    const runGoing = waitFor(owner, "run:update", (u) => {
      if (u.run.status === "running") order.push("run running");
      return u.run.status === "running";
    });
    const reply = await request(owner, "run:start", { roomId: f.roomId });
    if (!reply.ok) throw new Error(reply.error);
    // it waits only for the cell that holds the slot
    expect(reply.run).toMatchObject({ status: "queued", queuePosition: 1 });
    await Promise.all([secondCell, runGoing]);
    expect(order).toEqual(["run running", "second cell"]);
    // the room's owner cancels the editor's sweep: everyone sees it end, nothing more runs
    const ended = waitFor(
      viewer,
      "sweep:update",
      (u) =>
        u.sweep.sweepId === started.sweep.sweepId &&
        u.sweep.cells.every((c) => c.status !== "queued" && c.status !== "running"),
    );
    const cancelled = await request(owner, "sweep:cancel", { roomId: f.roomId, sweepId: started.sweep.sweepId });
    if (!cancelled.ok) throw new Error(cancelled.error);
    const cells = (await ended).sweep.cells;
    expect(cells.filter((c) => c.status === "cancelled").length).toBeGreaterThanOrEqual(14);
    // the run may have completed meanwhile (it ran before the second cell): stop it if not
    await request(owner, "run:cancel", { roomId: f.roomId });
    await waitUntil(
      async () => (await f.db.sweep.findUniqueOrThrow({ where: { id: started.sweep.sweepId } })).status === "ended",
      "the sweep's row says it ended",
    );
  });

  it("sweep:cancel: its starter and the room's owner only, idempotent, seen by everyone", async () => {
    const started = await request(owner, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 50 });
    if (!started.ok) throw new Error(started.error);
    const sweepId = started.sweep.sweepId;
    for (const other of [editor, viewer]) {
      expect(await request(other, "sweep:cancel", { roomId: f.roomId, sweepId })).toMatchObject({
        ok: false,
        code: "forbidden",
        error: "only the sweep's starter or the room's owner can cancel it",
      });
    }
    expect(await request(owner, "sweep:cancel", { roomId: f.roomId, sweepId: "no-such-sweep" })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    const seen = waitFor(
      viewer,
      "sweep:update",
      (u) => u.sweep.sweepId === sweepId && u.sweep.cells.every((c) => c.status === "cancelled"),
    );
    const first = await request(owner, "sweep:cancel", { roomId: f.roomId, sweepId });
    if (!first.ok) throw new Error(first.error);
    const final = (await seen).sweep;
    // again: nothing changes, and it says so with the same state
    const again = await request(owner, "sweep:cancel", { roomId: f.roomId, sweepId });
    if (!again.ok) throw new Error(again.error);
    expect(again.sweep.cells).toEqual(final.cells);
    // the room may sweep again
    const next = await request(editor, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 50 });
    if (!next.ok) throw new Error(next.error);
    const nextEnded = waitFor(
      viewer,
      "sweep:update",
      (u) =>
        u.sweep.sweepId === next.sweep.sweepId &&
        u.sweep.cells.every((c) => c.status !== "queued" && c.status !== "running"),
    );
    expect((await request(editor, "sweep:cancel", { roomId: f.roomId, sweepId: next.sweep.sweepId })).ok).toBe(true);
    await nextEnded;
  });

  it("a sweep outlives its process: a restart shows it ended, its unfinished cells failed with the reason", async () => {
    // its first cell starts at once (the slot is free): listened for before the start
    const running = waitFor(owner, "sweep:update", (u) => u.sweep.cells[0]!.status === "running");
    const started = await request(editor, "sweep:start", { roomId: f.roomId, axes: AXES, size: 48, iterations: 200 });
    if (!started.ok) throw new Error(started.error);
    const sweepId = started.sweep.sweepId;
    expect((await running).sweep.sweepId).toBe(sweepId);
    await server.close();
    // and one a killed process left (its row says running, no live holder): ended at the next start
    const crashed = await f.db.sweep.create({
      data: {
        id: "sweep-crashed-1",
        roomId: f.roomId,
        authorId: f.users.owner.id,
        request: JSON.stringify({ axes: AXES, size: 48, iterations: 4, authorName: "Owner" }),
        cells: (await f.db.sweep.findUniqueOrThrow({ where: { id: sweepId } })).cells,
        status: "running",
        createdAt: new Date(Date.now() + 1_000),
      },
    });
    server = await startServer(f);
    for (const id of [sweepId, crashed.id]) {
      const row = await f.db.sweep.findUniqueOrThrow({ where: { id } });
      expect(row.status).toBe("ended");
      const cells = JSON.parse(row.cells) as { info: SweepInfo["cells"][number] }[];
      expect(cells.every((c) => c.info.status !== "queued" && c.info.status !== "running")).toBe(true);
      expect(cells.filter((c) => c.info.status === "failed").length).toBeGreaterThan(0);
      for (const c of cells.filter((c) => c.info.status === "failed"))
        expect(c.info.error).toMatch(/optimiser stopped/);
    }
    // a joiner sees the room's latest sweep as it ended
    const late = await connect(server, f.users.viewer);
    clients.push(late);
    const update = waitFor(late, "sweep:update");
    expect((await request(late, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    const shown = (await update).sweep;
    expect(shown.sweepId).toBe(crashed.id);
    expect(shown.cells.some((c) => c.status === "failed" && /optimiser stopped/.test(c.error ?? ""))).toBe(true);
  });

  it("an ended sweep's files are removed once the TTL passed; promoting from it is then refused", async () => {
    const rows = new SweepRows(f.db, createLogger("warn"));
    const store = new SharedDirectory(f.dataDir);
    const cellImage = path.join(f.dataDir, "sweeps", sweep.sweepId, "2.png");
    const ttl = 60_000;
    // the first 2×2 sweep ended moments ago: kept
    expect(await rows.removeExpiredFiles(store, ttl)).not.toContain(sweep.sweepId);
    expect(fs.existsSync(cellImage)).toBe(true);
    const removed = await rows.removeExpiredFiles(store, ttl, Date.now() + 2 * ttl);
    expect(removed).toContain(sweep.sweepId);
    expect(fs.existsSync(cellImage)).toBe(false);
    expect((await f.db.sweep.findUniqueOrThrow({ where: { id: sweep.sweepId } })).filesRemovedAt).not.toBeNull();
    // done once: a second pass finds nothing more of it
    expect(await rows.removeExpiredFiles(store, ttl, Date.now() + 2 * ttl)).not.toContain(sweep.sweepId);
    const again = await connect(server, f.users.owner);
    clients.push(again);
    expect((await request(again, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    expect(await request(again, "sweep:promote", { roomId: f.roomId, sweepId: sweep.sweepId, cell: 2 })).toMatchObject({
      ok: false,
      code: "conflict",
    });
  });
});
