/**
 * Painted style masks co-edited in a room (issue 13), against a real service, database and
 * engine: strokes from two members converge, survive a restart, a viewer cannot paint, bad
 * strokes change nothing, and a masked tiny run paints only where its mask is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument, readRunParams } from "@atelier/db";
import { decodeImage, type RgbImage } from "@atelier/engine";
import type { RoomState } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  createFixture,
  imageAt,
  request,
  startServer,
  waitFor,
  waitUntil,
  type Client,
  type Fixture,
  joinRoom,
} from "./support.ts";

let f: Fixture;
let server: OptimizerServer;
const clients: Client[] = [];

async function joined(user: Fixture["users"]["owner"]): Promise<{ socket: Client; state: RoomState }> {
  return joinRoom(server, user, f.roomId, clients);
}

/** the left half of the photo, painted as a few wide horizontal strokes */
const leftHalf = (strokeId: string) => ({
  strokeId,
  tool: "brush",
  size: 0.25,
  points: [
    [0, 0.1],
    [0.37, 0.1],
    [0.37, 0.5],
    [0, 0.5],
    [0, 0.9],
    [0.37, 0.9],
  ],
});

beforeAll(async () => {
  f = await createFixture("masks");
  server = await startServer(f);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await f?.cleanup();
});

describe("mask strokes", () => {
  it("from two members converge: both see both strokes, in the same order, at the same version", async () => {
    const { socket: a } = await joined(f.users.owner);
    const { socket: b } = await joined(f.users.editor);
    const seen = { a: collect(a, "doc:changed"), b: collect(b, "doc:changed") };
    const styleImageId = f.styleImageIds[0]!;
    const [ra, rb] = await Promise.all([
      request(a, "mask:edit", { op: "stroke", roomId: f.roomId, styleImageId, stroke: leftHalf("a-1") }),
      request(b, "mask:edit", {
        op: "stroke",
        roomId: f.roomId,
        styleImageId,
        stroke: { strokeId: "b-1", tool: "eraser", size: 0.05, points: [[0.1, 0.1]] },
      }),
    ]);
    expect(ra.ok && rb.ok).toBe(true);
    await waitUntil(() => seen.a.length === 2 && seen.b.length === 2, "both edits reach both members");
    const last = { a: seen.a.at(-1)!, b: seen.b.at(-1)! };
    expect(last.a.version).toBe(last.b.version);
    expect(last.a.value).toEqual(last.b.value);
    const strokes = (last.a.value as RoomState["document"]["masks"])[styleImageId]!.strokes;
    expect(strokes.map((s) => s.strokeId).sort()).toEqual(["a-1", "b-1"]);
    expect(strokes.find((s) => s.strokeId === "a-1")!.authorId).toBe(f.users.owner.id);
    expect(strokes.find((s) => s.strokeId === "b-1")!.authorId).toBe(f.users.editor.id);
  });

  it("undo removes only the undoer's own last stroke", async () => {
    const { socket: b } = await joined(f.users.editor);
    const styleImageId = f.styleImageIds[0]!;
    expect(await request(b, "mask:edit", { op: "undo", roomId: f.roomId, styleImageId })).toMatchObject({ ok: true });
    // Bob has nothing left to undo; Ada's stroke stays
    expect(await request(b, "mask:edit", { op: "undo", roomId: f.roomId, styleImageId })).toMatchObject({
      ok: false,
      code: "invalid",
    });
    const { state } = await joined(f.users.viewer);
    expect(state.document.masks[styleImageId]!.strokes.map((s) => s.strokeId)).toEqual(["a-1"]);
  });

  it("refuses a viewer, out-of-bounds strokes, unknown styles and whole-field writes, changing nothing", async () => {
    const { socket: viewer } = await joined(f.users.viewer);
    const { socket: a, state } = await joined(f.users.owner);
    const styleImageId = f.styleImageIds[0]!;
    const stroke = (over: object) => ({ ...leftHalf("x"), ...over });
    expect(
      await request(viewer, "mask:edit", { op: "stroke", roomId: f.roomId, styleImageId, stroke: leftHalf("v") }),
    ).toMatchObject({ ok: false, code: "forbidden" });
    for (const bad of [
      stroke({ points: [[1.5, 0.2]] }),
      stroke({ size: 0 }),
      stroke({ points: Array.from({ length: 257 }, () => [0.5, 0.5]) }),
      stroke({
        tool: "fill",
        points: [
          [0.1, 0.1],
          [0.2, 0.2],
        ],
      }),
      stroke({ tool: "spray" }),
    ]) {
      expect(
        await request(a, "mask:edit", { op: "stroke", roomId: f.roomId, styleImageId, stroke: bad }),
      ).toMatchObject({ ok: false, code: "invalid" });
    }
    expect(
      await request(a, "mask:edit", {
        op: "stroke",
        roomId: f.roomId,
        styleImageId: f.privateImageId,
        stroke: leftHalf("p"),
      }),
    ).toMatchObject({ ok: false, code: "invalid" });
    expect(
      await request(a, "doc:edit", { roomId: f.roomId, field: "masks", value: {}, baseVersion: state.version }),
    ).toMatchObject({ ok: false, code: "invalid" });
    const after = await joined(f.users.editor);
    expect(after.state.version).toBe(state.version);
    expect(after.state.document.masks).toEqual(state.document.masks);
  });

  it("are persisted with the document and reach joiners after a restart", async () => {
    const { state } = await joined(f.users.owner);
    for (const c of clients.splice(0)) c.close();
    await server.close();
    const row = await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } });
    expect(readRoomDocument(row).masks).toEqual(state.document.masks);
    server = await startServer(f);
    const again = await joined(f.users.editor);
    expect(again.state.document.masks).toEqual(state.document.masks);
    expect(again.state.version).toBe(state.version);
  });
});

/** mean absolute difference per channel value over the columns [x0, x1) */
function columnsDistance(a: RgbImage, b: RgbImage, x0: number, x1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * a.width + x) * 3 + c;
        sum += Math.abs(a.data[i]! - b.data[i]!);
        n++;
      }
    }
  }
  return sum / n;
}

describe("a masked run", () => {
  it("takes the mask into its params and styles only the painted half", async () => {
    const { socket: a, state } = await joined(f.users.owner);
    const styleImageId = f.styleImageIds[0]!;
    // L-BFGS, not Adam: Adam's per-pixel normalisation turns the unpainted half's tiny content
    // gradients into full-size steps, so only L-BFGS shows "keeps the photo" crisply
    const optimizer = { roomId: f.roomId, field: "optimizer", value: "lbfgs", baseVersion: state.version };
    expect(await request(a, "doc:edit", optimizer)).toMatchObject({ ok: true });
    const reply = await request(a, "run:start", { roomId: f.roomId });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.run.params.masks[styleImageId]!.strokes.map((s) => s.strokeId)).toEqual(["a-1"]);
    // a region painted while the run goes needs a restart: it is not followed live
    const late = { op: "stroke", roomId: f.roomId, styleImageId, stroke: { ...leftHalf("late"), tool: "eraser" } };
    expect(await request(a, "mask:edit", late)).toMatchObject({ ok: true, restartNeeded: true });
    const end = await waitFor(
      a,
      "run:update",
      (u) => u.run.runId === reply.run.runId && u.run.status !== "running" && u.run.status !== "queued",
    );
    expect(end.run.status).toBe("completed");
    const row = await f.db.run.findUniqueOrThrow({ where: { id: reply.run.runId } });
    expect(readRunParams(row)!.masks[styleImageId]!.strokes).toHaveLength(1);

    const final = await decodeImage(`${f.dataDir}/runs/${reply.run.runId}/final.png`);
    const photo = await imageAt("tubingen.jpg", final.width, final.height);
    const half = Math.floor(final.width / 2);
    const left = columnsDistance(final, photo, 0, half - 4);
    const right = columnsDistance(final, photo, half + 4, final.width);
    // the unpainted half keeps the photo (content + TV only); the painted one moves to the style
    expect(left).toBeGreaterThan(2 * right);
  }, 300_000);
});
