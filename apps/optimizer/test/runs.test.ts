/**
 * Runs end to end: real worker threads running the real engine on real images through the
 * real VGG-19 weights, streamed to real clients. Runs are tiny (48–64 px, few iterations).
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readProvenance, readRunParams, readStyleImageIds } from "@atelier/db";
import type { RoomState, RunInfo, RunStatsEvent } from "@atelier/protocol";
import { canViewImage, imageFilePath } from "@atelier/storage";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  imageAt,
  pixelDistance,
  previewImage,
  request,
  scaled,
  startServer,
  tinyDocument,
  waitFor,
  type Client,
  type Fixture,
  joinRoom,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

let f: Fixture;
let server: OptimizerServer;
let a: Client; // owner
let b: Client; // editor
let version = 0;
const clients: Client[] = [];

async function joined(user: Fixture["users"]["owner"]): Promise<{ socket: Client; state: RoomState }> {
  return joinRoom(server, user, f.roomId, clients);
}

async function edit(socket: Client, field: string, value: unknown) {
  const reply = await request(socket, "doc:edit", {
    roomId: f.roomId,
    field,
    value,
    baseVersion: version,
  });
  if (!reply.ok) throw new Error(`${field}: ${reply.error}`);
  version = reply.version;
  return reply;
}

const finished = (socket: Client, runId?: string, timeoutMs?: number) =>
  waitFor(
    socket,
    "run:update",
    (u) =>
      (!runId || u.run.runId === runId) && ["completed", "failed", "cancelled", "interrupted"].includes(u.run.status),
    timeoutMs,
  );

async function start(socket: Client, restart = false): Promise<RunInfo> {
  const reply = await request(socket, "run:start", { roomId: f.roomId, restart });
  if (!reply.ok) throw new Error(`run:start: ${reply.error}`);
  return reply.run;
}

beforeAll(async () => {
  f = await createFixture("runs");
  server = await startServer(f);
  const ja = await joined(f.users.owner);
  a = ja.socket;
  version = ja.state.version;
  b = (await joined(f.users.editor)).socket;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  await f?.cleanup();
});

describe("a run", () => {
  let runId = "";

  it("streams previews and stats to every member and completes", async () => {
    const previews = { a: collect(a, "run:preview"), b: collect(b, "run:preview") };
    const stats = { a: collect(a, "run:stats"), b: collect(b, "run:stats") };
    const doneA = finished(a);
    const doneB = finished(b);
    const run = await start(a);
    runId = run.runId;
    expect(run).toMatchObject({
      status: expect.stringMatching(/queued|running/),
      iterations: 10,
      authorId: f.users.owner.id,
    });
    const [endA, endB] = await Promise.all([doneA, doneB]);
    expect(endA.run).toMatchObject({ runId, status: "completed", iteration: 10, error: null });
    expect(endB.run.status).toBe("completed");

    for (const who of ["a", "b"] as const) {
      expect(stats[who].map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(
        stats[who].every((s) => s.runId === runId && s.total > 0 && s.ms > 0 && Object.keys(s.style).length === 5),
      ).toBe(true);
      expect(previews[who].length).toBeGreaterThanOrEqual(3);
      for (const p of previews[who]) {
        const bytes = Buffer.from(p.data as Uint8Array);
        expect(p).toMatchObject({ roomId: f.roomId, runId, mime: "image/webp", width: 64, height: 48 });
        expect(bytes.subarray(0, 4).toString("latin1")).toBe("RIFF");
        expect(bytes.subarray(8, 12).toString("latin1")).toBe("WEBP");
        expect(typeof p.encodedAt).toBe("number");
      }
      expect(previews[who].at(-1)!.iteration).toBe(10);
    }

    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row).toMatchObject({ status: "completed", iterations: 10, authorId: f.users.owner.id });
    expect(row.backend).toBeTruthy();
    expect(row.modelHash).toBeTruthy();
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(row.computeMs).toBeGreaterThan(0);
    expect(existsSync(path.join(f.dataDir, "runs", runId, "final.png"))).toBe(true);
  });

  it("saves the final image as a Result with provenance", async () => {
    const saved = waitFor(b, "result:saved");
    const reply = await request(a, "result:save", {
      roomId: f.roomId,
      runId,
      title: "Tübingen at night",
      isPublic: true,
    });
    if (!reply.ok) throw new Error(reply.error);
    expect(await saved).toMatchObject({
      roomId: f.roomId,
      runId,
      resultId: reply.resultId,
      title: "Tübingen at night",
      isPublic: true,
      author: { userId: f.users.owner.id, name: "Ada" },
    });

    const result = await f.db.result.findUniqueOrThrow({ where: { id: reply.resultId }, include: { image: true } });
    expect(result).toMatchObject({
      runId,
      authorId: f.users.owner.id,
      isPublic: true,
      contentImageId: f.contentImageId,
    });
    expect(readStyleImageIds(result)).toEqual([f.styleImageIds[0]]);
    expect(result.image).toMatchObject({ mime: "image/png", width: 64, height: 48 });
    expect(existsSync(imageFilePath(result.image, { dataDir: f.dataDir }))).toBe(true);
    const provenance = readProvenance(result)!;
    expect(provenance).toMatchObject({
      runId,
      kind: "final",
      seed: 42,
      iterations: 10,
      contentImageId: f.contentImageId,
      styleImageIds: [f.styleImageIds[0]],
      params: { size: 64, iterations: 10, contentWeight: 5, styleWeight: 100, optimizer: "adam" },
    });
    expect(provenance.backend).toBeTruthy();
    expect(provenance.modelHash).toBeTruthy();
    expect((provenance.timings as { computeMs: number }).computeMs).toBeGreaterThan(0);

    // a private save of the same image has its own image, which stays private
    const privateSave = await request(a, "result:save", {
      roomId: f.roomId,
      runId,
      title: "Just for us",
      isPublic: false,
    });
    if (!privateSave.ok) throw new Error(privateSave.error);
    const privateResult = await f.db.result.findUniqueOrThrow({ where: { id: privateSave.resultId } });
    expect(privateResult.imageId).not.toBe(result.imageId);
    expect(await canViewImage(f.db, result.imageId, null)).toBe(true);
    expect(await canViewImage(f.db, privateResult.imageId, null)).toBe(false);
    expect(await canViewImage(f.db, privateResult.imageId, f.users.outsider.id)).toBe(false);

    // viewers may not save, and unknown runs are refused
    const viewer = await joined(f.users.viewer);
    expect(
      await request(viewer.socket, "result:save", { roomId: f.roomId, runId, title: "mine", isPublic: false }),
    ).toMatchObject({ ok: false, code: "forbidden" });
    expect(
      await request(a, "result:save", { roomId: f.roomId, runId: "nope", title: "x", isPublic: false }),
    ).toMatchObject({ ok: false, code: "not_found" });
  });

  it("gives a late joiner the state, the loss history and the latest preview", async () => {
    const socket = await connect(server, f.users.viewer);
    clients.push(socket);
    const preview = waitFor(socket, "run:preview");
    const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.state.run).toMatchObject({ runId, status: "completed", iteration: 10 });
    expect(reply.state.run!.resultIds).toHaveLength(2); // the public and the private save above
    expect(reply.state.history.map((h) => h.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const frame = await preview;
    expect(frame).toMatchObject({ runId, iteration: 10 });
  });
});

describe("during a run", () => {
  beforeEach(async () => {
    await edit(a, "size", 64);
    await edit(a, "styleWeight", 100);
  });

  it("applies a weight edit from the next iteration", async () => {
    // the smallest size: the loss terms show the edit at any size (64 px cost ~2.6× the CPU)
    await edit(a, "size", 32);
    await edit(a, "iterations", 24);
    const stats = collect(b, "run:stats");
    const done = finished(b);
    const run = await start(a);
    await waitFor(a, "run:stats", (s) => s.runId === run.runId && s.iteration >= 3);
    const reply = await edit(b, "styleWeight", 100_000);
    expect(reply.restartNeeded).toBe(false);
    const end = await done;
    expect(end.run).toMatchObject({ status: "completed", iteration: 24 });
    expect(end.run.params.styleWeight).toBe(100_000);

    const styleSum = (s: RunStatsEvent) => Object.values(s.style).reduce((x, y) => x + y, 0);
    const mine = stats.filter((s) => s.runId === run.runId);
    const before = mine.filter((s) => s.iteration <= 3).map(styleSum);
    const after = mine.filter((s) => s.iteration >= 20).map(styleSum);
    // ×1000 weight: the weighted style loss jumps by orders of magnitude
    expect(Math.min(...after)).toBeGreaterThan(50 * Math.max(...before));
    const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
    expect(readRunParams(row)?.styleWeight).toBe(100_000);
  });

  it("follows a live edit of the style blend weights from the next iteration, with no restart", async () => {
    const [starry, scream] = f.styleImageIds as [string, string];
    await edit(a, "iterations", 12);
    await edit(a, "styles", [
      { imageId: starry, weight: 1 },
      { imageId: scream, weight: 0 },
    ]);
    const styleOf = (s: RunStatsEvent) => s.style.relu1_1!;
    // the smallest size: the two paintings' Grams part at any size (64 px cost ~2.6× the CPU)
    await edit(a, "size", 32);
    try {
      // the same run twice (same seed: identical iterations), the second one re-blended mid-run
      const control = collect(b, "run:stats");
      const first = await start(a);
      expect((await finished(b, first.runId)).run.status).toBe("completed");
      const plain = control.filter((s) => s.runId === first.runId);

      const stats = collect(b, "run:stats");
      const done = finished(b);
      const run = await start(a);
      await waitFor(a, "run:stats", (s) => s.runId === run.runId && s.iteration >= 3);
      const reply = await edit(b, "styles", [
        { imageId: starry, weight: 0 },
        { imageId: scream, weight: 1 },
      ]);
      expect(reply.restartNeeded).toBe(false);
      const end = await done;
      expect(end.run).toMatchObject({ runId: run.runId, status: "completed", iteration: 12 });
      expect(end.run.params.styles.map((s) => s.weight)).toEqual([0, 1]);

      const edited = stats.filter((s) => s.runId === run.runId);
      expect(edited.map((s) => s.iteration)).toEqual(plain.map((s) => s.iteration));
      const diverged = edited.findIndex((s, i) => styleOf(s) !== styleOf(plain[i]!));
      // identical until the edit, from then on scored against the other painting's Grams
      expect(diverged).toBeGreaterThanOrEqual(3);
      const [x, y] = [styleOf(edited[diverged]!), styleOf(plain[diverged]!)];
      expect(Math.abs(x - y) / y).toBeGreaterThan(0.2);
    } finally {
      await edit(a, "styles", [{ imageId: starry, weight: 1 }]);
    }
  });

  it("saves the current image of a running run with preview: true, and refuses a final save", async () => {
    await edit(a, "iterations", 500);
    const run = await start(a);
    await waitFor(b, "run:stats", (s) => s.runId === run.runId && s.iteration >= 2);
    expect(
      await request(a, "result:save", { roomId: f.roomId, runId: run.runId, title: "final?", isPublic: false }),
    ).toMatchObject({ ok: false, code: "conflict" });
    const reply = await request(a, "result:save", {
      roomId: f.roomId,
      runId: run.runId,
      title: "Mid-run",
      isPublic: false,
      preview: true,
    });
    if (!reply.ok) throw new Error(reply.error);
    const result = await f.db.result.findUniqueOrThrow({ where: { id: reply.resultId }, include: { image: true } });
    expect(result).toMatchObject({ runId: run.runId, title: "Mid-run", isPublic: false });
    expect(result.image).toMatchObject({ mime: "image/png", width: 64, height: 48 });
    const provenance = readProvenance(result)!;
    expect(provenance).toMatchObject({ runId: run.runId, kind: "preview", status: "running", targetIterations: 500 });
    expect(provenance.iterations as number).toBeGreaterThanOrEqual(2);
    expect(provenance.iterations as number).toBeLessThan(500);
    // the saved picture is the run's image (near the content it started from), not a blank or another image
    const saved = await imageAt(imageFilePath(result.image, { dataDir: f.dataDir }), 64, 48);
    const content = await imageAt("tubingen.jpg", 64, 48);
    const style = await imageAt("starry_night.jpg", 64, 48);
    expect(pixelDistance(saved, content)).toBeLessThan(0.5 * pixelDistance(style, content));

    const done = finished(b, run.runId);
    expect(await request(a, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
    await done;
  });

  it("cancels", async () => {
    await edit(a, "iterations", 500);
    const run = await start(a);
    await waitFor(b, "run:stats", (s) => s.runId === run.runId && s.iteration >= 2);
    const done = finished(b, run.runId);
    expect(await request(b, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
    expect((await done).run.status).toBe("cancelled");
    expect((await f.db.run.findUniqueOrThrow({ where: { id: run.runId } })).status).toBe("cancelled");
    expect(await request(b, "run:cancel", { roomId: f.roomId })).toMatchObject({ ok: false, code: "not_found" });
  });

  it("cancels a run right after its start, while its engine process is still setting it up", async () => {
    await edit(a, "iterations", 500);
    const run = await start(a);
    const done = finished(b, run.runId);
    const sent = Date.now();
    expect(await request(b, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
    expect((await done).run.status).toBe("cancelled");
    // the engine heard it (a dropped cancel ends only when the service's 20 s grace runs out)
    expect(Date.now() - sent).toBeLessThan(scaled(10_000));
  });

  it("flags a size edit as restart-needed, and restarts from the current image", async () => {
    await edit(a, "iterations", 500);
    const first = await start(a);
    await waitFor(a, "run:stats", (s) => s.runId === first.runId && s.iteration >= 2);
    const flagged = waitFor(b, "room:restart-needed", (p) => p.fields.includes("size"));
    expect((await edit(a, "size", 48)).restartNeeded).toBe(true);
    expect((await flagged).fields).toEqual(["size"]);
    // a live edit next to it needs no restart
    expect((await edit(a, "tvWeight", 0.002)).restartNeeded).toBe(false);
    const state = await request(b, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    expect(state.ok && state.state.restartNeeded).toEqual(["size"]);

    expect(await request(a, "run:start", { roomId: f.roomId })).toMatchObject({ ok: false, code: "conflict" });
    const firstEnd = finished(b, first.runId);
    const cleared = waitFor(b, "room:restart-needed", (p) => p.fields.length === 0);
    const preview = waitFor(b, "run:preview", (p) => p.runId !== first.runId);
    const second = await start(a, true);
    expect((await firstEnd).run.status).toBe("cancelled");
    await cleared;
    expect(second.params.size).toBe(48);
    const row = await f.db.run.findUniqueOrThrow({ where: { id: second.runId } });
    expect(row.resumedFromId).toBe(first.runId);
    expect((await preview).width).toBe(48);
    const done = finished(b, second.runId);
    expect(await request(a, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
    await done;
  });
});

describe("restarting from the current image", () => {
  it("starts the new run from the old run's image, not the content: its first preview shows it", async () => {
    await edit(a, "size", 64);
    await edit(a, "iterations", 500);
    await edit(a, "learningRate", 0.5); // small steps: the image stays near where each run started
    await edit(a, "init", "style");
    try {
      const first = await start(a);
      await waitFor(a, "run:stats", (s) => s.runId === first.runId && s.iteration >= 2);
      // a fresh start would now begin at the content; a restart continues from the current (starry) image
      await edit(a, "init", "content");
      const firstEnd = finished(b, first.runId);
      const preview = waitFor(b, "run:preview", (p) => p.runId !== first.runId);
      const second = await start(a, true);
      expect((await firstEnd).run.status).toBe("cancelled");
      const frame = await preview;
      expect(frame).toMatchObject({ runId: second.runId, width: 64, height: 48 });

      const shown = await previewImage(frame);
      const style = await imageAt("starry_night.jpg", 64, 48);
      const content = await imageAt("tubingen.jpg", 64, 48);
      const apart = pixelDistance(style, content);
      expect(apart).toBeGreaterThan(20);
      expect(pixelDistance(shown, style)).toBeLessThan(0.3 * apart);
      expect(pixelDistance(shown, content)).toBeGreaterThan(0.7 * apart);

      const done = finished(b, second.runId);
      expect(await request(a, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
      await done;
    } finally {
      await edit(a, "init", "content");
      await edit(a, "learningRate", 5);
    }
  });
});

describe("the queue", () => {
  it("queues a second room's run behind the first (one worker) with its position, then starts it", async () => {
    await edit(a, "size", 48);
    await edit(a, "iterations", 500);
    const other = await f.db.room.create({
      data: {
        name: "Other room",
        ownerId: f.users.editor.id,
        document: JSON.stringify(tinyDocument(f, { size: 48, iterations: 500 })),
        members: { create: [{ userId: f.users.editor.id, role: "owner" }] },
      },
    });
    const first = await start(a);
    // the first run's time left, once it measured a few iterations
    const measured = await waitFor(
      a,
      "run:update",
      (u) => u.run.runId === first.runId && u.run.iteration >= 5 && u.run.etaSeconds !== null,
    );
    const joinedOther = await request(b, "room:join", { roomId: other.id, protocol: PROTOCOL_VERSION });
    if (!joinedOther.ok) throw new Error(joinedOther.error);
    // the estimate before Start includes the wait behind the first user's run: its time left
    // (a second or so later than the update read above, and re-estimated since)
    const firstLeft = measured.run.etaSeconds!;
    const wait = joinedOther.state.speed?.queueWaitSeconds ?? 0;
    expect(firstLeft).toBeGreaterThan(2);
    expect(wait).toBeGreaterThan(firstLeft * 0.5);
    expect(wait).toBeLessThan(firstLeft * 1.5 + 2);
    const reply = await request(b, "run:start", { roomId: other.id });
    if (!reply.ok) throw new Error(reply.error);
    expect(reply.run).toMatchObject({ status: "queued", queuePosition: 1 });
    const secondRunning = waitFor(b, "run:update", (u) => u.roomId === other.id && u.run.status === "running");
    const firstDone = finished(a, first.runId);
    expect(await request(a, "run:cancel", { roomId: f.roomId })).toEqual({ ok: true });
    await firstDone;
    expect((await secondRunning).run.queuePosition).toBeNull();
    const secondDone = waitFor(b, "run:update", (u) => u.roomId === other.id && u.run.status === "cancelled");
    expect(await request(b, "run:cancel", { roomId: other.id })).toEqual({ ok: true });
    await secondDone;
    await request(b, "room:leave", { roomId: other.id });
  });
});

describe("faults", () => {
  beforeEach(async () => {
    await edit(a, "size", 48);
    await edit(a, "iterations", 200);
  });

  it("marks a run failed when its worker throws, and keeps serving", async () => {
    server.debug.crashNextRunAt(2);
    const error = waitFor(b, "room:error");
    const run = await start(a);
    const end = await finished(b, run.runId);
    expect(end.run.status).toBe("failed");
    expect(end.run.error).toMatch(/injected worker crash at iteration/);
    expect((await error).error).toMatch(/the run failed/);
    expect((await f.db.run.findUniqueOrThrow({ where: { id: run.runId } })).status).toBe("failed");
    // still alive: edits and health work
    expect((await edit(a, "seed", 1)).version).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("an engine process killed mid-run (kill -9): the service keeps serving, the run goes on in a new process from its checkpoint", async () => {
    await edit(a, "iterations", 40);
    const run = await start(a);
    // checkpoints every 5 iterations: by iteration 12 the one at 10 is recorded
    await waitFor(b, "run:stats", (s) => s.runId === run.runId && s.iteration >= 12, 240_000);
    const pid = server.debug.enginePid(run.runId);
    expect(pid).not.toBeNull();
    // a new engine process loads VGG-19 again before its first iteration: a generous ceiling
    const resumed = waitFor(b, "run:stats", (s) => s.runId === run.runId && s.iteration <= 11, 240_000);
    const end = finished(b, run.runId, 400_000);
    process.kill(pid!, "SIGKILL");
    // the service is unharmed meanwhile: edits and health
    expect((await edit(b, "seed", 3)).version).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    // the next iteration after the restart follows a checkpoint (10 or 5), not iteration 0
    expect((await resumed).iteration).toBeGreaterThan(5);
    expect((await end).run.status).toBe("completed");
    expect(server.debug.enginePid(run.runId)).toBeNull();
  }, 600_000);

  it("an engine process that aborts natively fails only its run; the next run runs", async () => {
    await edit(a, "iterations", 20);
    server.debug.crashNextRunAt(2, "abort");
    const run = await start(a);
    const failed = await finished(b, run.runId);
    expect(failed.run.status).toBe("failed");
    expect(failed.run.error).toMatch(/native abort/);

    await edit(a, "iterations", 3);
    const next = await start(a);
    expect((await finished(b, next.runId)).run.status).toBe("completed");
    const health = (await (await fetch(`${server.url}/health`)).json()) as { backend: string };
    expect(health.backend).toBe("onnx");
    const row = await f.db.run.findUniqueOrThrow({ where: { id: next.runId } });
    expect(row.backend).toBe("onnx");
  }, 600_000);
});
