/**
 * The run bus on the local Redis, under this file's own key prefix: events and control
 * messages arrive checked against their schemas (malformed ones are dropped), and the capped
 * per-run keys late joiners read (history, state, preview) round-trip.
 */
// test-plan: one database engine (it opens no database: support.ts is imported for its helpers only)
import { randomUUID } from "node:crypto";
import { defaultRoomDocument, runParams, type RunControl, type RunEvent } from "@atelier/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/common/log.ts";
import { RunBus } from "../src/cluster/run-bus.ts";
import { waitUntil } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;
const bus = new RunBus(REDIS_URL, PREFIX, createLogger("silent"));

afterAll(async () => {
  const keys = await bus.redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await bus.redis.del(...keys);
  await bus.close();
});

const stats = (iteration: number) => ({
  runId: "run1",
  iteration,
  scale: 0,
  total: 1,
  content: 1,
  style: { relu1_1: 1 },
  tv: 1,
  ms: 10,
});

describe("the run bus", () => {
  it("delivers valid run events and drops malformed ones", async () => {
    const got: RunEvent[] = [];
    await bus.onEvent((e) => got.push(e));
    await bus.redis.publish(`${PREFIX}run-events`, JSON.stringify({ type: "stats", roomId: "room1", stats: {} }));
    await bus.redis.publish(`${PREFIX}run-events`, "not json");
    await bus.publish({ type: "stats", roomId: "room1", stats: stats(1) });
    await waitUntil(() => got.length > 0, "an event arrived", 5_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([{ type: "stats", roomId: "room1", stats: stats(1) }]);
  });

  it("routes control messages to the run's own channel only", async () => {
    const mine: RunControl[] = [];
    const stop = await bus.onControl("run1", (c) => mine.push(c));
    expect(await bus.sendControl("run2", { type: "cancel" })).toBe(0);
    await bus.redis.publish(`${PREFIX}run-control:run1`, JSON.stringify({ type: "edit", field: "nope", value: 1 }));
    await bus.sendControl("run1", { type: "edit", field: "styleWeight", value: 50, authorId: "u1" });
    await waitUntil(() => mine.length > 0, "a control message arrived", 5_000);
    expect(mine).toEqual([{ type: "edit", field: "styleWeight", value: 50, authorId: "u1" }]);
    await stop();
    expect(await bus.sendControl("run1", { type: "cancel" })).toBe(0);
  });

  it("keeps a run's history, trims it back to a checkpoint, and keeps its state and last preview", async () => {
    for (let i = 1; i <= 12; i++) await bus.pushStats(stats(i));
    expect((await bus.history("run1")).map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await bus.trimHistory("run1", 10);
    expect((await bus.history("run1")).at(-1)?.iteration).toBe(10);

    const params = runParams.parse({
      ...defaultRoomDocument(),
      contentImageId: "c1",
      styles: [{ imageId: "s1", weight: 1 }],
    });
    const info = {
      runId: "run1",
      status: "queued" as const,
      authorId: "u1",
      params,
      iteration: 0,
      iterations: params.iterations,
      queuePosition: 3,
      etaSeconds: 12.5,
      error: null,
      resultIds: [],
      finalImageId: null,
    };
    await bus.setInfo(info);
    expect(await bus.info("run1")).toEqual(info);
    const frame = {
      roomId: "room1",
      runId: "run1",
      iteration: 4,
      mime: "image/png" as const,
      width: 2,
      height: 2,
      data: Buffer.from([1, 2, 3]).toString("base64"),
      encodedAt: 5,
    };
    await bus.setPreview(frame);
    expect(await bus.preview("run1")).toEqual(frame);
    expect(await bus.info("missing")).toBeNull();
  });
});
