/**
 * A room's run history over real Socket.IO, the real database and real tiny runs: the list,
 * one run's curve, restoring a run's settings as co-edits everyone sees, and continuing from
 * an earlier run's image (branching) — with who did what told to the room. The room starts from
 * its style image, not the content photo, so the picture tells where a continued run starts from.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLossHistory } from "@atelier/db";
import type { RoomDocument, RunInfo } from "@atelier/protocol";
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
  waitUntil,
  type Client,
  type Fixture,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

let f: Fixture;
let server: OptimizerServer;
let owner: Client;
let editor: Client;
let viewer: Client;
let version = 0;
const clients: Client[] = [];
const runIds: string[] = [];

async function joined(user: Fixture["users"]["owner"]): Promise<Client> {
  const socket = await connect(server, user);
  clients.push(socket);
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  version = Math.max(version, reply.state.version);
  return socket;
}

async function edit(socket: Client, field: keyof RoomDocument, value: unknown): Promise<void> {
  const reply = await request(socket, "doc:edit", { roomId: f.roomId, field, value, baseVersion: version });
  if (!reply.ok) throw new Error(`${field}: ${reply.error}`);
  version = reply.version;
}

async function runToEnd(socket: Client, extra: Record<string, unknown> = {}): Promise<RunInfo> {
  const reply = await request(socket, "run:start", { roomId: f.roomId, ...extra });
  if (!reply.ok) throw new Error(`run:start: ${reply.error}`);
  const end = await waitFor(
    socket,
    "run:update",
    (u) => u.run.runId === reply.run.runId && !["queued", "running"].includes(u.run.status),
  );
  expect(end.run.status).toBe("completed");
  return end.run;
}

beforeAll(async () => {
  f = await createFixture("history");
  await setDocument(f, tinyDocument(f, { size: 48, iterations: 4, init: "style" }));
  server = await startServer(f);
  owner = await joined(f.users.owner);
  editor = await joined(f.users.editor);
  viewer = await joined(f.users.viewer);
  runIds.push((await runToEnd(owner)).runId);
  await edit(editor, "styleWeight", 5000);
  await edit(owner, "styles", [{ imageId: f.styleImageIds[1]!, weight: 1 }]);
  runIds.push((await runToEnd(editor)).runId);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await f?.cleanup();
});

describe("run history", () => {
  it("lists the room's runs newest first, with author, settings, status and kept image — to viewers too", async () => {
    const reply = await request(viewer, "history:list", { roomId: f.roomId });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.runs.map((r) => r.runId)).toEqual([...runIds].reverse());
    const [second, first] = reply.runs;
    expect(first).toMatchObject({
      status: "completed",
      author: { userId: f.users.owner.id, name: "Ada" },
      iteration: 4,
    });
    expect(second).toMatchObject({ author: { userId: f.users.editor.id, name: "Bob" } });
    expect(second!.params.styleWeight).toBe(5000);
    expect(first!.finalImageId).toBeTruthy();
    expect(second!.finalImageId).not.toBe(first!.finalImageId);
  });

  it("gives one earlier run's loss curve; refuses runs of other rooms and outsiders", async () => {
    const reply = await request(viewer, "history:curve", { roomId: f.roomId, runId: runIds[0] });
    if (!reply.ok) throw new Error(reply.error);
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runIds[0] } });
    expect(reply.history).toEqual(readLossHistory(row));
    expect(reply.history.map((p) => p.iteration)).toEqual([1, 2, 3, 4]);
    const unknown = await request(viewer, "history:curve", { roomId: f.roomId, runId: "not-a-run" });
    expect(unknown).toMatchObject({ ok: false, code: "not_found" });
    const outsider = await connect(server, f.users.outsider);
    clients.push(outsider);
    expect(await request(outsider, "history:list", { roomId: f.roomId })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
  });

  it("restoring a run's settings is a co-edit per changed field that everyone sees, with an activity line", async () => {
    expect(await request(viewer, "history:restore", { roomId: f.roomId, runId: runIds[0] })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    const changes = collect(owner, "doc:changed");
    const activity = waitFor(owner, "room:activity");
    const before = (await f.db.run.findUniqueOrThrow({ where: { id: runIds[0] } })).params;
    const reply = await request(editor, "history:restore", { roomId: f.roomId, runId: runIds[0] });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.version).toBe(version + 2);
    version = reply.version;
    expect(await activity).toMatchObject({
      kind: "restored-settings",
      runId: runIds[0],
      author: { userId: f.users.editor.id, name: "Bob" },
    });
    await waitUntil(() => changes.length >= 2, "both co-edits reached another member");
    expect(changes.map((c) => c.field).sort()).toEqual(["styleWeight", "styles"]);
    expect(changes.every((c) => c.author.userId === f.users.editor.id)).toBe(true);
    const state = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!state.ok) throw new Error(state.error);
    const first = JSON.parse(before) as RoomDocument;
    expect(state.state.document.styleWeight).toBe(first.styleWeight);
    expect(state.state.document.styles).toEqual(first.styles);
    // restoring what the document already holds changes nothing
    const again = await request(editor, "history:restore", { roomId: f.roomId, runId: runIds[0] });
    expect(again).toMatchObject({ ok: true, version });
  });

  it("continuing from an earlier run's image starts a run from that image, and the room is told", async () => {
    const refused = await request(owner, "run:start", { roomId: f.roomId, fromRunId: "not-a-run" });
    expect(refused).toMatchObject({ ok: false, code: "not_found" });
    expect(await f.db.run.count({ where: { roomId: f.roomId } })).toBe(2);

    await edit(owner, "learningRate", 0.5);
    const activity = waitFor(viewer, "room:activity", (a) => a.kind === "continued-from");
    const firstFrame = waitFor(viewer, "run:preview", (p) => !runIds.includes(p.runId) && p.iteration >= 1);
    const branch = await runToEnd(owner, { fromRunId: runIds[1] });
    expect(await activity).toMatchObject({ runId: runIds[1], author: { userId: f.users.owner.id } });
    const row = await f.db.run.findUniqueOrThrow({ where: { id: branch.runId } });
    expect(row.resumedFromId).toBe(runIds[1]);

    // its first frame looks like the run it continued from: not like the content photo, nor like
    // a fresh start from the room's init (the style image), the same run without fromRunId
    const frame = await previewImage(await firstFrame);
    const freshFrame = waitFor(viewer, "run:preview", (p) => p.runId !== branch.runId && !runIds.includes(p.runId));
    await runToEnd(owner);
    const fresh = await previewImage(await freshFrame);
    const fromRow = await f.db.run.findUniqueOrThrow({ where: { id: runIds[1] }, include: { finalImage: true } });
    const fromImage = await imageAt(
      imageFilePath(fromRow.finalImage!, { dataDir: f.dataDir }),
      frame.width,
      frame.height,
    );
    const contentRow = await f.db.image.findUniqueOrThrow({ where: { id: f.contentImageId } });
    const content = await imageAt(imageFilePath(contentRow, { dataDir: f.dataDir }), frame.width, frame.height);
    const toFrom = pixelDistance(frame, fromImage);
    const toContent = pixelDistance(frame, content);
    const toFresh = pixelDistance(frame, fresh);
    console.log(
      `[history] continued run's first frame: ${toFrom.toFixed(1)} from the earlier run's image, ${toContent.toFixed(1)} from the content photo, ${toFresh.toFixed(1)} from a fresh start`,
    );
    expect(toFrom).toBeLessThan(0.3 * toContent);
    expect(toFrom).toBeLessThan(0.3 * toFresh);
  });
});
