/**
 * Two gateways, one running job (issue 27): members on both gateways edit the same live weight
 * at once, again and again. The store gives each accepted edit a version; every gateway's copy
 * of the room moves a field only to a higher version and forwards what it applied to the
 * worker holding the job, so the job must end on the value of the highest version — whichever
 * gateway's message reached the worker last — and a late copy of an older edit, delivered to
 * each gateway after the rest, changes nothing. Real gateways (in this process), a real worker
 * process and engine, the local Redis under this file's own key prefix.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRunParams } from "@atelier/db";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  createFixture,
  joinRoom,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  waitUntil,
  type Client,
  type Fixture,
} from "./support.ts";
import { spawnWorker, type WorkerProcess } from "./support-workers.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;
const ROUNDS = 3;
/** edits per gateway per round, all sent at once */
const BURST = 6;

let f: Fixture;
const gateways: OptimizerServer[] = [];
let worker: WorkerProcess | null = null;
const clients: Client[] = [];

beforeAll(async () => {
  f = await createFixture("gateway-version-order");
  // long enough to still be running after the edits; the test ends it with an iterations edit
  await setDocument(f, tinyDocument(f, { size: 48, iterations: 2000, multiscale: false }));
  for (let i = 0; i < 2; i++)
    gateways.push(await startServer(f, { redisUrl: REDIS_URL, role: "gateway", redisPrefix: PREFIX }));
  worker = spawnWorker(f, REDIS_URL, PREFIX);
  await worker.waitForLog("worker.ready", undefined, 90_000);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await worker?.kill("SIGKILL");
  for (const g of gateways) await g.close();
  await f?.cleanup();
});

describe("concurrent edits of one weight through two gateways", () => {
  it("leave the running job on the value of the highest version", async () => {
    const [a, b] = await Promise.all(
      gateways.map(async (g, i) => joinRoom(g, i ? f.users.editor : f.users.owner, f.roomId, clients)),
    );
    const sockets = [a!.socket, b!.socket];
    const stats = collect(sockets[0]!, "run:stats");
    const started = await request(sockets[0]!, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;
    await waitFor(sockets[0]!, "run:stats", (s) => s.runId === runId && s.iteration >= 2, 90_000);

    const accepted: { value: number; version: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // every value distinct, so the job follows each one it is told (it ignores repeats)
      const edits = sockets.flatMap((socket, g) =>
        Array.from({ length: BURST }, (_, i) => ({ socket, value: 1000 * (round + 1) + 100 * g + i + 1 })),
      );
      const replies = await Promise.all(
        edits.map(({ socket, value }) =>
          request(socket, "doc:edit", { roomId: f.roomId, field: "styleWeight", value, baseVersion: 0 }).then(
            (reply) => ({ reply, value }),
          ),
        ),
      );
      for (const { reply, value } of replies) if (reply.ok) accepted.push({ value, version: reply.version });
    }
    const versions = accepted.map((e) => e.version);
    expect(new Set(versions).size).toBe(versions.length); // one version per accepted edit
    expect(accepted.length).toBeGreaterThan(ROUNDS * BURST); // through both gateways
    const newest = accepted.reduce((x, y) => (y.version > x.version ? y : x));

    // both gateways' rooms end on it: a joiner of each sees it
    for (const g of gateways) {
      await waitUntil(
        async () => {
          const { socket, state } = await joinRoom(g, f.users.viewer, f.roomId);
          socket.close();
          return state.document.styleWeight === newest.value;
        },
        `gateway ${gateways.indexOf(g) + 1} shows the newest styleWeight`,
      );
    }
    // and a late copy of an older edit (the network held one back) moves neither room nor job:
    // each gateway hears it from the other, on the real inter-node channel
    const oldest = accepted.reduce((x, y) => (y.version < x.version ? y : x));
    for (const g of gateways)
      g.io.serverSideEmit("atelier:doc", {
        roomId: f.roomId,
        field: "styleWeight",
        value: oldest.value,
        version: oldest.version,
        authorId: f.users.owner.id,
        authorName: f.users.owner.name,
      });
    // what the gateways forwarded has reached the worker a few iterations later; then the run is stopped there
    const now = Math.max(...stats.filter((s) => s.runId === runId).map((s) => s.iteration));
    await waitFor(sockets[0]!, "run:stats", (s) => s.runId === runId && s.iteration >= now + 5, 90_000);
    const stop = await request(sockets[1]!, "doc:edit", {
      roomId: f.roomId,
      field: "iterations",
      value: now + 6,
      baseVersion: 0,
    });
    expect(stop.ok).toBe(true);
    const end = await waitFor(
      sockets[0]!,
      "run:update",
      (u) => u.run.runId === runId && u.run.status !== "running" && u.run.status !== "queued",
      90_000,
    );
    expect(end.run.status).toBe("completed");
    // the Run row keeps the params the job ran with at its end (live edits included)
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(readRunParams(row)!.styleWeight).toBe(newest.value);
    expect(end.run.params.styleWeight).toBe(newest.value);
  });
});
