/**
 * "Render large" over real Socket.IO, the real database and a real tiny run: a finished 64 px
 * run rendered again at 128 px under a 128 px operator cap — its own settings, one level at the
 * new size, from its image upscaled, the room's settings untouched — and a render over the cap
 * or not larger than the painting refused with a clear error that creates nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument, readRunParams } from "@atelier/db";
import { PROTOCOL_VERSION, type RunInfo } from "@atelier/protocol";
import { imageFilePath } from "@atelier/storage";
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

let f: Fixture;
let server: OptimizerServer;
let owner: Client;
let source: RunInfo;

async function runToEnd(extra: Record<string, unknown> = {}): Promise<RunInfo> {
  const reply = await request(owner, "run:start", { roomId: f.roomId, ...extra });
  if (!reply.ok) throw new Error(`run:start: ${reply.error}`);
  const end = await waitFor(
    owner,
    "run:update",
    (u) => u.run.runId === reply.run.runId && !["queued", "running"].includes(u.run.status),
  );
  expect(end.run.status).toBe("completed");
  return end.run;
}

beforeAll(async () => {
  f = await createFixture("render-large");
  await setDocument(f, tinyDocument(f, { size: 64, iterations: 6, multiscale: false }));
  server = await startServer(f, { limits: { maxSize: 128 } });
  owner = await connect(server, f.users.owner);
  const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!joined.ok) throw new Error(joined.error);
  source = await runToEnd();
});

afterAll(async () => {
  owner?.close();
  await server?.close();
  await f?.cleanup();
});

describe("render large", () => {
  it("over the operator's cap, or not larger than the painting: refused, nothing created", async () => {
    const over = await request(owner, "run:start", {
      roomId: f.roomId,
      fromRunId: source.runId,
      render: { size: 256 },
    });
    expect(over).toMatchObject({
      ok: false,
      code: "limit",
      error: "this optimiser renders images up to 128 px (asked for 256 px)",
    });
    const same = await request(owner, "run:start", { roomId: f.roomId, fromRunId: source.runId, render: { size: 64 } });
    expect(same).toMatchObject({ ok: false, error: "the painting is already 64 px; a large render must be larger" });
    const noRun = await request(owner, "run:start", { roomId: f.roomId, render: { size: 128 } });
    expect(noRun).toMatchObject({ ok: false });
    expect(await f.db.run.count({ where: { roomId: f.roomId } })).toBe(1);
  });

  it("re-runs the finished run's top level at 128 px from its image, leaving the room's settings alone", async () => {
    const frames = collect(owner, "run:preview");
    const restartNeeded = collect(owner, "room:restart-needed");
    const large = await runToEnd({ fromRunId: source.runId, render: { size: 128 } });
    // its own size is no "restart needed" in the room
    expect(restartNeeded.filter((r) => r.fields.length > 0)).toEqual([]);
    const row = await f.db.run.findUniqueOrThrow({ where: { id: large.runId } });
    expect(row.resumedFromId).toBe(source.runId);
    expect(readRunParams(row)).toMatchObject({ size: 128, multiscale: false, iterations: 6 });
    // the room still asks for 64 px
    const room = await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } });
    expect(readRoomDocument(room).size).toBe(64);

    const own = frames.filter((p) => p.runId === large.runId);
    // the final frame is the large painting (tubingen is 4:3 landscape)
    expect(Math.max(own.at(-1)!.width, own.at(-1)!.height)).toBe(128);
    // its first frame is the 64 px painting upscaled, not the photo
    const first = await previewImage(own[0]!);
    expect(first.width).toBe(128);
    const sourceRow = await f.db.run.findUniqueOrThrow({ where: { id: source.runId }, include: { finalImage: true } });
    const painting = await imageAt(
      imageFilePath(sourceRow.finalImage!, { dataDir: f.dataDir }),
      first.width,
      first.height,
    );
    const contentRow = await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } });
    const photo = await imageAt(imageFilePath(contentRow, { dataDir: f.dataDir }), first.width, first.height);
    expect(pixelDistance(first, painting)).toBeLessThan(pixelDistance(first, photo));
  });
});
