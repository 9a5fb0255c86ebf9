/**
 * The speed model end to end: a room's state carries the reference figure until a run
 * completes on this service, then the completed run's run:update and the next join carry the
 * speed measured from it, and so does a new service on the same database (real engine process,
 * real engine, a 128 px run).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, referenceRate } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  connect,
  createFixture,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  type Fixture,
} from "./support.ts";

let f: Fixture;
let server: OptimizerServer;

beforeAll(async () => {
  f = await createFixture("speed");
  // 128×96 px × 20 iterations ≈ 246 000 pixel-iterations: enough to learn from (runs/speed-model.ts)
  await setDocument(f, tinyDocument(f, { size: 128, iterations: 20, multiscale: false }));
  server = await startServer(f);
});
afterAll(async () => {
  await server?.close();
  await f?.cleanup();
});

describe("speed model", () => {
  it("starts at the reference figure and learns from a completed run", async () => {
    const socket = await connect(server, f.users.owner);
    const joined = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!joined.ok) throw new Error(joined.error);
    // the engine runs ONNX Runtime by default: its reference figure until a run finished
    expect(joined.state.speed).toMatchObject({
      backend: "onnx",
      source: "default",
      msPerPixelIteration: referenceRate("onnx"),
    });

    const startedAt = Date.now();
    const started = await request(socket, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const done = await waitFor(
      socket,
      "run:update",
      (u) => u.run.runId === started.run.runId && u.run.status === "completed",
    );
    expect(done.speed).toMatchObject({ source: "measured", runs: 1 });
    const wallMs = Date.now() - startedAt;
    // the figure is this run's own: its compute time over its pixel-iterations (one level, no
    // multi-scale: the final image's pixels × iterations), counted here from the Run row
    const row = await f.db.run.findUniqueOrThrow({
      where: { id: started.run.runId },
      select: { computeMs: true, finalImage: { select: { width: true, height: true } } },
    });
    const pixelIterations = row.finalImage!.width * row.finalImage!.height * 20;
    const own = row.computeMs! / pixelIterations;
    expect(own).toBeGreaterThan(0);
    const learned = done.speed!.msPerPixelIteration;
    expect(learned).toBeGreaterThan(own / 3);
    expect(learned).toBeLessThan(own * 3);
    // and no more than the wall-clock time from Start to completion allows (compute is part of it)
    expect(learned).toBeLessThan(wallMs / pixelIterations);
    expect(learned).not.toBe(referenceRate("onnx"));

    // a later joiner gets the learned figure too
    const other = await connect(server, f.users.editor);
    const rejoined = await request(other, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!rejoined.ok) throw new Error(rejoined.error);
    expect(rejoined.state.speed).toEqual(done.speed);
    // persisted: a new service on the same database starts from what the run taught, not the reference
    const again = await startServer(f);
    try {
      const third = await connect(again, f.users.owner);
      const fresh = await request(third, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
      if (!fresh.ok) throw new Error(fresh.error);
      expect(fresh.state.speed).toMatchObject({ source: "measured", runs: 1 });
      // the same figure, from the stored run (its compute time is kept in whole milliseconds)
      expect(fresh.state.speed!.msPerPixelIteration / done.speed!.msPerPixelIteration).toBeCloseTo(1, 3);
      third.close();
    } finally {
      await again.close();
    }
    socket.close();
    other.close();
  });
});
