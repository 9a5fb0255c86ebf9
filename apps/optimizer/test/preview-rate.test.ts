/**
 * The preview frame-rate cap: a run whose iterations are much quicker than 1/previewFps sends
 * at most one frame per 1/previewFps (plus the final image), while every iteration's stats
 * still arrive. No absolute timing: the bound is computed from the run's own duration as the
 * test saw it (every preview is decided between run:start and the completed update).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  type Client,
  type Fixture,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const FPS = 1;
const ITERATIONS = 150;
let f: Fixture;
let server: OptimizerServer;
let socket: Client;
let version = 0;

beforeAll(async () => {
  f = await createFixture("preview-rate");
  // 32 px through conv1_1 only: an iteration takes a small fraction of a second even on a busy machine
  await setDocument(
    f,
    tinyDocument(f, { size: 32, iterations: 2, contentLayers: ["relu1_1"], styleLayers: ["relu1_1"] }),
  );
  server = await startServer(f, { previewFps: FPS });
  socket = await connect(server, f.users.owner);
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  version = reply.state.version;
});

afterAll(async () => {
  socket?.close();
  await server?.close();
  await f?.cleanup();
});

async function runToEnd(): Promise<{ runId: string; status: string; elapsed: number }> {
  const startedAt = Date.now();
  const reply = await request(socket, "run:start", { roomId: f.roomId });
  if (!reply.ok) throw new Error(reply.error);
  const { runId } = reply.run;
  const end = await waitFor(
    socket,
    "run:update",
    (u) => u.run.runId === runId && u.run.status !== "queued" && u.run.status !== "running",
  );
  return { runId, status: end.run.status, elapsed: Date.now() - startedAt };
}

it(`sends at most ${FPS} preview per second of the run (plus the final image), and every iteration's stats`, async () => {
  // a first short run loads the worker thread (backend, weights), so the measured run is all iterations
  expect((await runToEnd()).status).toBe("completed");
  const edit = await request(socket, "doc:edit", {
    roomId: f.roomId,
    field: "iterations",
    value: ITERATIONS,
    baseVersion: version,
  });
  expect(edit.ok).toBe(true);

  const previews = collect(socket, "run:preview");
  const stats = collect(socket, "run:stats");
  const { runId, status, elapsed } = await runToEnd();
  expect(status).toBe("completed");

  const mine = previews.filter((p) => p.runId === runId);
  expect(stats.filter((s) => s.runId === runId).map((s) => s.iteration)).toEqual(
    Array.from({ length: ITERATIONS }, (_, i) => i + 1),
  );
  // throttled frames are ≥ 1/FPS apart, all decided within the run; the final image comes on top
  const bound = Math.floor((elapsed * FPS) / 1000) + 1 + 1;
  expect(mine.length).toBeLessThanOrEqual(bound);
  expect(mine.length).toBeGreaterThanOrEqual(2); // the first iteration's frame and the final one
  expect(mine[0]!.iteration).toBe(1);
  expect(mine.at(-1)!.iteration).toBe(ITERATIONS);
  // the cap really skipped frames (so the bound above is not vacuous): far fewer previews than iterations
  expect(mine.length).toBeLessThan(ITERATIONS / 3);
});
