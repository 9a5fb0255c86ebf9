/**
 * Nothing a run painted vanishes: when a run ends (finished or cancelled) its image is stored
 * as an Image row and its loss curve on the Run row; a room opened later — by a fresh optimiser
 * process with nothing in memory — shows that image and that curve.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLossHistory } from "@atelier/db";
import type { Preview, RoomState, RunInfo } from "@atelier/protocol";
import { imageFilePath } from "@atelier/storage";
import { chooseKeptImage } from "../src/runs/outcome.ts";
import type { PreviewFrame } from "../src/rooms/live-room.ts";
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
  type Client,
  type Fixture,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

describe("chooseKeptImage", () => {
  const frame = { runId: "r" } as PreviewFrame;
  it("prefers the final image, then the last checkpoint, then the last preview", () => {
    expect(chooseKeptImage({ finalFile: "/f.png", checkpointFile: "/c.png", preview: frame })).toEqual({
      kind: "file",
      file: "/f.png",
    });
    expect(chooseKeptImage({ finalFile: null, checkpointFile: "/c.png", preview: frame })).toEqual({
      kind: "file",
      file: "/c.png",
    });
    expect(chooseKeptImage({ finalFile: null, checkpointFile: null, preview: frame })).toEqual({
      kind: "preview",
      frame,
    });
  });
  it("keeps nothing for a run that painted nothing", () => {
    expect(chooseKeptImage({ finalFile: null, checkpointFile: null, preview: null })).toBeNull();
  });
});

describe("an ended run's image and chart outlive the optimiser's memory", () => {
  let f: Fixture;
  let server: OptimizerServer | null = null;
  const clients: Client[] = [];

  async function join(
    user: Fixture["users"]["owner"],
  ): Promise<{ socket: Client; frames: Preview[]; state: RoomState }> {
    const socket = await connect(server!, user);
    clients.push(socket);
    const frames = collect(socket, "run:preview");
    const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!reply.ok) throw new Error(reply.error);
    return { socket, frames, state: reply.state };
  }

  const ended = (socket: Client, runId: string) =>
    waitFor(socket, "run:update", (u) => u.run.runId === runId && !["queued", "running"].includes(u.run.status));

  beforeAll(async () => {
    f = await createFixture("outcome");
    await setDocument(f, tinyDocument(f, { size: 48, iterations: 6 }));
    server = await startServer(f);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
    await f?.cleanup();
  });

  it("a finished run: Image row with the final pixels, the curve on the Run row, both shown after a restart", async () => {
    const { socket: owner } = await join(f.users.owner);
    const reply = await request(owner, "run:start", { roomId: f.roomId });
    if (!reply.ok) throw new Error(reply.error);
    const runId = reply.run.runId;
    const end = await ended(owner, runId);
    expect(end.run.status).toBe("completed");
    expect(end.run.finalImageId).toBeTruthy();

    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.finalImageId).toBe(end.run.finalImageId);
    const curve = readLossHistory(row);
    expect(curve.map((p) => p.iteration)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(curve.every((p) => p.runId === runId && Number.isFinite(p.total))).toBe(true);
    const image = await f.db.image.findUniqueOrThrow({ where: { id: row.finalImageId! } });
    expect(image).toMatchObject({ mime: "image/png", ownerId: f.users.owner.id });
    const finalFile = path.join(f.dataDir, "runs", runId, "final.png");
    const stored = await imageAt(imageFilePath(image, { dataDir: f.dataDir }), image.width, image.height);
    expect(pixelDistance(stored, await imageAt(finalFile, image.width, image.height))).toBe(0);

    // a fresh optimiser: nothing in memory, everything from the database and the image store
    await server!.close();
    server = await startServer(f);
    const late = await join(f.users.viewer);
    const state = late.state;
    expect(state.run).toMatchObject({ runId, status: "completed", iteration: 6, finalImageId: image.id });
    expect(state.history).toEqual(curve);
    if (!late.frames.some((p) => p.runId === runId))
      await waitFor(late.socket, "run:preview", (p) => p.runId === runId);
    const shown = late.frames.find((p) => p.runId === runId);
    expect(shown).toBeDefined();
    expect(shown!.mime).toBe("image/png");
    expect(pixelDistance(await previewImage(shown!), stored)).toBe(0);
  });

  it("a cancelled run keeps the image it had reached and its curve so far", async () => {
    await setDocument(f, tinyDocument(f, { size: 48, iterations: 2000 }));
    await server!.close();
    server = await startServer(f);
    const { socket: owner } = await join(f.users.owner);
    const reply = await request(owner, "run:start", { roomId: f.roomId });
    if (!reply.ok) throw new Error(reply.error);
    const runId = reply.run.runId;
    await waitFor(owner, "run:stats", (s) => s.runId === runId && s.iteration >= 3);
    const end = ended(owner, runId);
    const cancel = await request(owner, "run:cancel", { roomId: f.roomId });
    expect(cancel.ok).toBe(true);
    const info: RunInfo = (await end).run;
    expect(info.status).toBe("cancelled");
    expect(info.finalImageId).toBeTruthy();
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.finalImageId).toBe(info.finalImageId);
    const curve = readLossHistory(row);
    expect(curve.length).toBeGreaterThanOrEqual(3);
    expect(curve.at(-1)!.iteration).toBeLessThanOrEqual(row.iterations);
  });
});
