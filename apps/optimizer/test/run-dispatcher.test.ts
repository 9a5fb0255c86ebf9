/**
 * The cluster dispatcher against the local Redis (own key prefix) and the fixture database,
 * without workers taking jobs: what it queues on BullMQ from the Run rows, and that a Redis
 * that lost everything (a restart: Redis here keeps nothing on disk) gets every accepted run's
 * job back from the rows — except a run a live worker still holds (its lease file). Sweeps
 * (queued in Redis, sweeps/sweep-store.ts) take their turns among the runs one cell at a time, each
 * cell one job of their user queued behind what waited while the cell before it ran.
 * A worker advertising a real GPU adapter gets the big run on the GPU workers' queue; a small one
 * goes to the CPU workers' (cluster/placement.ts through dispatch-plan.ts).
 */
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { serializeRunParams } from "@atelier/db";
import { expandSweep, runParams, type RunEvent, type SweepInfo } from "@atelier/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeLease } from "../src/runs/lease.ts";
import { SharedDirectory } from "@atelier/files";
import { createLogger } from "../src/common/log.ts";
import { RunBus } from "../src/cluster/run-bus.ts";
import { RunDispatcher } from "../src/cluster/dispatcher.ts";
import { RUN_QUEUE_GPU, WORKER_REGISTRY } from "../src/cluster/run-worker-role.ts";
import { cellJobId, newCellInfo } from "../src/sweeps/sweep-cell.ts";
import { SweepStore } from "../src/sweeps/sweep-store.ts";
import { createFixture, tinyDocument, waitUntil, type Fixture } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;
const log = createLogger("silent");

let f: Fixture;
let bus: RunBus;
let dispatcher: RunDispatcher;
let queue: Queue;
let gpuQueue: Queue;
let redis: Redis;

beforeAll(async () => {
  f = await createFixture("dispatcher");
  bus = new RunBus(REDIS_URL, PREFIX, log);
  dispatcher = new RunDispatcher({
    db: f.db,
    bus,
    log,
    redisUrl: REDIS_URL,
    nodeId: "d1",
    files: new SharedDirectory(f.dataDir),
    referenceRate: () => 0.02,
  });
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue("runs", { connection: redis, prefix: `${PREFIX}bull` });
  gpuQueue = new Queue(RUN_QUEUE_GPU, { connection: redis, prefix: `${PREFIX}bull` });
});

afterAll(async () => {
  await dispatcher?.close();
  await queue?.close();
  await gpuQueue?.close();
  await redis?.quit();
  const keys = await bus.redis.keys(`${PREFIX}*`);
  if (keys.length > 0) await bus.redis.del(...keys);
  await bus?.close();
  await f?.cleanup();
});

/** A worker's capacity key and its entry in the registry, as a live worker writes them every 2 s. */
const workerSlots = (concurrency: number, workerId = "w1", more: object = {}, ttl = 60_000) =>
  bus.redis
    .multi()
    .set(`${PREFIX}worker:${workerId}`, JSON.stringify({ workerId, concurrency, running: 0, ...more }), "PX", ttl)
    .zadd(`${PREFIX}${WORKER_REGISTRY}`, Date.now() + ttl, workerId)
    .exec();

async function createRun(
  authorId: string,
  status: "queued" | "running",
  size: { size: number; iterations: number } = { size: 64, iterations: 10 },
): Promise<string> {
  const params = runParams.parse(tinyDocument(f, size));
  const row = await f.db.run.create({
    data: { roomId: f.roomId, authorId, params: serializeRunParams(params), seed: params.seed, status },
  });
  return row.id;
}

const jobIds = async (q = queue) => (await q.getJobs(["waiting", "active", "delayed"])).map((j) => j.id).sort();

describe("the cluster dispatcher", () => {
  it("queues runs for free slots only, and after Redis lost its state re-queues every run nobody holds", async () => {
    const orphan = await createRun(f.users.owner.id, "running"); // its worker's job is gone
    const held = await createRun(f.users.editor.id, "running");
    await writeLease(new SharedDirectory(f.dataDir), held, "a-live-worker"); // this process: alive
    const queued = await createRun(f.users.viewer.id, "queued");
    const states: RunEvent[] = [];
    await bus.onEvent((e) => states.push(e));

    // no worker: the orphan gets its job back, the queued run only its place in line
    await dispatcher.tick();
    expect(await jobIds()).toEqual([orphan]);
    await waitUntil(
      () => states.some((e) => e.type === "state" && e.run.runId === queued && e.run.queuePosition === 1),
      "the queued run hears its position",
      5_000,
    );

    // room for one more than the two running: the queued run goes out
    await workerSlots(3);
    await dispatcher.tick();
    expect(await jobIds()).toEqual([orphan, queued].sort());

    // Redis loses everything (what a restart does here; only this file's keys, Redis is shared); a worker registers again
    await bus.redis.del(...(await bus.redis.keys(`${PREFIX}*`)));
    await workerSlots(3);
    await dispatcher.tick();
    expect(await jobIds()).toEqual([orphan, queued].sort());
    // the held run was never queued twice
    expect(await queue.getJob(held)).toBeUndefined();
  });

  it("hands out a sweep's cells one at a time as jobs of its user in the fair order, and again when a cell's job is lost", async () => {
    // a clean slate: no run active, no key of this file left
    await f.db.run.updateMany({ where: { status: { in: ["queued", "running"] } }, data: { status: "completed" } });
    await bus.redis.del(...(await bus.redis.keys(`${PREFIX}*`)));
    const store = new SweepStore(bus.redis, PREFIX, log);
    const owner = f.users.owner;
    const grid = expandSweep(tinyDocument(f), {
      axes: [{ param: "styleWeight", values: [1, 2] }],
      size: 32,
      iterations: 2,
    });
    if (!grid.ok) throw new Error(grid.error);
    const sweepId = `sweep-${randomUUID()}`;
    const info: SweepInfo = {
      sweepId,
      author: { userId: owner.id, name: owner.name },
      axes: [{ param: "styleWeight", values: [1, 2] }],
      size: 32,
      iterations: 2,
      queuePosition: null,
      cells: grid.cells.map(newCellInfo),
    };
    const sweep = {
      sweepId,
      roomId: f.roomId,
      author: { id: owner.id, name: owner.name },
      cells: grid.cells,
      axes: info.axes,
      size: 32,
      iterations: 2,
      createdAt: Date.now(),
    };
    expect(await store.create(sweep, info)).toBe(true);
    // one sweep at a time in a room
    expect(await store.create({ ...sweep, sweepId: `${sweepId}-2` }, { ...info, sweepId: `${sweepId}-2` })).toBe(false);
    const ownersRun = await createRun(owner.id, "queued");
    const editorsRun = await createRun(f.users.editor.id, "queued");
    const events: RunEvent[] = [];
    await bus.onEvent((e) => events.push(e));

    const [cell0, cell1] = [cellJobId(sweepId, 0), cellJobId(sweepId, 1)];
    // one free slot: the oldest (the sweep's first cell) goes; the runs wait, each hearing its place
    await workerSlots(1);
    await dispatcher.tick();
    expect(await jobIds()).toEqual([cell0]);
    const job = await queue.getJob(cell0);
    expect(job).toMatchObject({ name: "sweep", data: { sweepId, cell: 0 } });
    expect(await store.held()).toEqual([sweepId]);
    // three slots: the editor's run goes; the owner's waits for the owner's sweep (one job per user)
    await workerSlots(3);
    await dispatcher.tick();
    expect(await jobIds()).toEqual([cell0, editorsRun].sort());
    await waitUntil(
      () => events.some((e) => e.type === "state" && e.run.runId === ownersRun && e.run.queuePosition === 1),
      "the owner's run waits first in line",
      5_000,
    );

    // the cell's job is lost while the cell has not ended: it is handed out again
    await (await queue.getJob(cell0))!.remove();
    await dispatcher.tick();
    expect(await jobIds()).toContain(cell0);

    // the first cell ends (what its worker does): the next cell queues behind the owner's run,
    // which waited meanwhile — the run goes, the cell waits for it (one job per user)
    await (await queue.getJob(cell0))!.remove();
    const done = { ...info.cells[0]!, status: "completed" as const };
    await store.cellEnded({ ...info, cells: [done, info.cells[1]!] });
    await dispatcher.tick();
    expect(await store.held()).toEqual([]);
    expect(await jobIds()).toEqual([editorsRun, ownersRun].sort());
    // the owner's run ended: the second cell goes out
    await f.db.run.update({ where: { id: ownersRun }, data: { status: "completed" } });
    await (await queue.getJob(ownersRun))!.remove();
    await dispatcher.tick();
    expect(await jobIds()).toEqual([cell1, editorsRun].sort());
    expect(await store.held()).toEqual([sweepId]);

    // every cell ended: the dispatcher lets it go, the room may sweep again
    await (await queue.getJob(cell1))!.remove();
    await store.setInfo({ ...info, cells: info.cells.map((c) => ({ ...c, status: "completed" as const })) });
    await dispatcher.tick();
    expect(await store.held()).toEqual([]);
    expect(await jobIds()).toEqual([editorsRun]);
    expect(await store.create({ ...sweep, sweepId: `${sweepId}-3` }, { ...info, sweepId: `${sweepId}-3` })).toBe(true);
    const third = { ...info, sweepId: `${sweepId}-3` };
    // a waiting sweep's queue position is written while it waits, never over a cancel that took it out of line
    expect(await store.setWaitingInfo({ ...third, queuePosition: 2 })).toBe(true);
    expect((await store.info(third.sweepId))?.queuePosition).toBe(2);
    await store.forget(third.sweepId);
    expect(await store.setWaitingInfo({ ...third, queuePosition: 3 })).toBe(false);
    expect((await store.info(third.sweepId))?.queuePosition).toBe(2);
    expect(await store.create({ ...sweep, sweepId: `${sweepId}-4` }, { ...info, sweepId: `${sweepId}-4` })).toBe(false);
    // a going sweep that ended without letting go (its worker died right at the end) does not block the room
    await store.setInfo({ ...third, cells: third.cells.map((c) => ({ ...c, status: "completed" as const })) });
    expect(await store.create({ ...sweep, sweepId: `${sweepId}-4` }, { ...info, sweepId: `${sweepId}-4` })).toBe(true);
  });

  it("puts a big run on the GPU workers' queue when a worker advertises a GPU adapter, a small one on the CPU workers'", async () => {
    await f.db.run.updateMany({ where: { status: { in: ["queued", "running"] } }, data: { status: "completed" } });
    await bus.redis.del(...(await bus.redis.keys(`${PREFIX}*`)));
    const gpuAdapter = { vendor: "NVIDIA", device: "H100", software: false };
    await workerSlots(1, "cpu1", { backend: "onnx", adapter: null });
    await workerSlots(1, "gpu1", { backend: "webgpu", adapter: gpuAdapter }, 1_500);
    // llvmpipe is a CPU worker: it takes no big job while the real GPU is there
    await workerSlots(1, "lava1", {
      backend: "webgpu",
      adapter: { vendor: "Mesa", device: "llvmpipe", software: true },
    });
    const big = await createRun(f.users.owner.id, "queued", { size: 1024, iterations: 500 });
    const small = await createRun(f.users.editor.id, "queued");
    await dispatcher.tick();
    expect(await jobIds(gpuQueue)).toEqual([big]);
    expect(await jobIds()).toEqual([small]);
    expect(await bus.redis.hget(`${PREFIX}placed`, big)).toBe("gpu1");

    // the GPU worker goes silent (its key expires) before taking the job: the big run goes to the CPU workers
    await waitUntil(
      async () => (await bus.redis.exists(`${PREFIX}worker:gpu1`)) === 0,
      "the GPU worker's key expires",
      5_000,
    );
    await dispatcher.tick();
    expect(await jobIds(gpuQueue)).toEqual([]);
    expect(await jobIds()).toEqual([big, small].sort());
  });
});
