/**
 * The cluster dispatcher: one gateway at a time (a Redis lease, SET NX PX, renewed) turns the
 * database's queued runs and the next cells of Redis's waiting sweeps (sweeps/sweep-store.ts; each
 * cell is one job of its user, queued when the one before it ended, as in embedded mode, so other
 * users' jobs go between a sweep's cells) into BullMQ jobs, in the global fair order (cluster/dispatch-plan.ts),
 * only as fast as the workers have free slots, and publishes every waiting run's position and
 * ETA (a sweep's position). Each job goes on the queue of the kind of worker placement.ts chose
 * for it (cluster/dispatch-plan.ts): big jobs on GPU workers' (RUN_QUEUE_GPU), small ones on CPU
 * workers' (RUN_QUEUE); which worker got it is kept in `<prefix>placed`. The database is the truth: a job lost with Redis's state (a Redis restart) is added
 * again from the Run rows, and a run whose worker died is taken over through BullMQ's stall
 * check by another worker (cluster/run-worker-role.ts).
 */
import { Queue, type Job } from "bullmq";
import { readRunParams, type Db } from "@atelier/db";
import { workerSlots, type RunParams } from "@atelier/protocol";
import type { FileStore } from "@atelier/files";
import { isLeaseHeld, readLease } from "../runs/lease.ts";
import { ACTIVE, toRunInfo } from "../common/live-run.ts";
import { liveRunFromRow } from "../runs/views.ts";
import type { Logger } from "../common/log.ts";
import { redisClient, type RunBus } from "./run-bus.ts";
import { planDispatch, type PlanRun, type PlanWorker } from "./dispatch-plan.ts";
import { isGpuWorker, placeJob, type PlacementJob } from "./placement.ts";
import { RUN_QUEUE, RUN_QUEUE_GPU, WORKER_REGISTRY } from "./run-worker-role.ts";
import { sweepSecondsLeft } from "../runs/eta.ts";
import { cellJobId, currentCell } from "../sweeps/sweep-cell.ts";
import { SweepStore } from "../sweeps/sweep-store.ts";
import type { ClusterSweep } from "@atelier/protocol";
import { gauges } from "../common/metrics.ts";

const TICK_MS = 500;
const LEASE_MS = 5_000;

/** Extends the lease only if this node still holds it. */
const RENEW_LEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) else return 0 end`;

interface RunDispatcherOptions {
  db: Db;
  bus: RunBus;
  log: Logger;
  redisUrl: string;
  nodeId: string;
  /** the file store: the run leases (runs/lease.ts) say whether a worker still holds a run */
  files: FileStore;
  /** ms per pixel-iteration for ETAs until running runs measured it (the speed model) */
  referenceRate: () => number;
}

type Row = Awaited<ReturnType<Db["run"]["findMany"]>>[number];

/** What a BullMQ job carries out: a run, or one cell of a sweep (job id = cellJobId). */
type DispatchJob = { kind: "run"; id: string } | { kind: "sweep"; id: string; sweepId: string; cell: number };

export class RunDispatcher {
  /** the CPU workers' queue and the GPU workers' */
  private readonly queues: { cpu: Queue; gpu: Queue };
  private readonly sweeps: SweepStore;
  private timer: NodeJS.Timeout | null = null;
  private ticking = false;
  /** position/ETA last published per waiting run, to publish changes only */
  private readonly published = new Map<string, string>();
  private leader = false;
  private readonly stopGauge: () => void;

  constructor(private readonly o: RunDispatcherOptions) {
    const queue = (name: string) => {
      const q = new Queue(name, {
        connection: redisClient(o.redisUrl, o.log, "bull-queue"),
        prefix: `${o.bus.prefix}bull`,
      });
      q.on("error", (error) => o.log.warn("dispatcher.queue_error", { error }));
      return q;
    };
    this.queues = { cpu: queue(RUN_QUEUE), gpu: queue(RUN_QUEUE_GPU) };
    // the whole cluster's queues, as this gateway reads them (every gateway reports the same: take max())
    this.stopGauge = gauges.queue(async () => {
      const [cpu, gpu] = await Promise.all([this.queues.cpu.getJobCounts(), this.queues.gpu.getJobCounts()]);
      const states = new Set([...Object.keys(cpu), ...Object.keys(gpu)]);
      return [...states].map((state): [{ state: string }, number] => [
        { state },
        (cpu[state] ?? 0) + (gpu[state] ?? 0),
      ]);
    });
    this.sweeps = new SweepStore(o.bus.redis, o.bus.prefix, o.log);
  }

  private key(name: string): string {
    return `${this.o.bus.prefix}${name}`;
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** One round: hold the lease, then dispatch and publish positions. Never throws (Redis or the database may be down). */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      if (await this.holdLease()) await this.dispatch();
    } catch (error) {
      this.o.log.warn("dispatcher.tick_failed", { error });
    } finally {
      this.ticking = false;
    }
  }

  private async holdLease(): Promise<boolean> {
    const redis = this.o.bus.redis;
    const key = this.key("dispatcher");
    const renewed = await redis.eval(RENEW_LEASE, 1, key, this.o.nodeId, String(LEASE_MS));
    const held = renewed === 1 || (await redis.set(key, this.o.nodeId, "PX", LEASE_MS, "NX")) === "OK";
    if (held !== this.leader) this.o.log.info(held ? "dispatcher.leader" : "dispatcher.follower", {});
    this.leader = held;
    return held;
  }

  /** The live workers as they advertise themselves (their slots keys expire when they go silent). */
  private async workers(): Promise<PlanWorker[]> {
    const redis = this.o.bus.redis;
    const registry = this.key(WORKER_REGISTRY);
    await redis.zremrangebyscore(registry, "-inf", String(Date.now()));
    const ids = await redis.zrange(registry, "0", "-1");
    if (ids.length === 0) return [];
    const keys = ids.map((id) => this.key(`worker:${id}`));
    const workers: PlanWorker[] = [];
    for (const raw of await redis.mget(keys)) {
      const parsed = raw ? workerSlots.safeParse(JSON.parse(raw)) : null;
      if (!parsed?.success) continue;
      const { workerId, concurrency, running, backend, adapter } = parsed.data;
      // a worker from before backends were advertised runs the default: a CPU worker
      workers.push({ workerId, concurrency, running, backend: backend ?? "onnx", adapter: adapter ?? null });
    }
    return workers;
  }

  /**
   * The queue a job handed out again goes on: its kind of worker by placement.ts as if every
   * live worker were free (a big job goes back to the GPU workers while there are any), the CPU
   * workers' when none is live.
   */
  private queueFor(job: PlacementJob, workers: PlanWorker[]): "cpu" | "gpu" {
    const all = workers.map((w) => ({ ...w, free: w.concurrency }));
    const id = placeJob(job, all);
    return workers.some((w) => w.workerId === id && isGpuWorker(w)) ? "gpu" : "cpu";
  }

  private async dispatch(): Promise<void> {
    const { db, bus, log } = this.o;
    const redis = bus.redis;
    const rows = await db.run.findMany({ where: { status: { in: ACTIVE } }, orderBy: { createdAt: "asc" } });
    const dispatchedKey = this.key("dispatched");
    const dispatched = new Set(await redis.smembers(dispatchedKey));
    const rate = learnedRate(rows) ?? this.o.referenceRate();
    const workers = await this.workers();
    const placedKey = this.key("placed");
    const placed = new Map(Object.entries(await redis.hgetall(placedKey)));
    const holding: PlanRun[] = [];
    // runs and sweeps waiting, each with when it was queued: the fair queue takes them oldest first
    const waiting: { run: PlanRun; queuedAt: number }[] = [];
    const byId = new Map<string, { row: Row; params: RunParams }>();
    for (const row of rows) {
      const params = readRunParams(row);
      if (!params) continue; // the worker that gets it fails it with a clear error; not ours to guess
      byId.set(row.id, { row, params });
      const seconds = secondsLeft(row, params, rate);
      const job = { size: params.size, iterations: params.iterations };
      const run = { id: row.id, userId: row.authorId, seconds, job, workerId: placed.get(row.id) ?? null };
      if (row.status === "running" || dispatched.has(row.id)) holding.push(run);
      else waiting.push({ run, queuedAt: row.createdAt.getTime() });
    }
    // a run holding a slot without a live job (Redis lost its state, or its job ended while the
    // run was left held) and without a live holder: hand it out again
    for (const run of holding) {
      if (await this.handOutAgain({ kind: "run", id: run.id }, run, workers))
        log.warn("run.redispatched", { runId: run.id });
    }
    holding.push(...(await this.heldSweeps(rate, workers, placed)));
    // each waiting sweep's next cell, by its job id
    const sweeps = new Map<string, { sweep: ClusterSweep; cell: number }>();
    for (const { sweep, info, queuedAt } of await this.sweeps.waiting()) {
      const cell = currentCell(info);
      if (cell === null) {
        await this.sweeps.ended(sweep);
        continue;
      }
      const id = cellJobId(sweep.sweepId, cell);
      sweeps.set(id, { sweep, cell });
      // only this cell: the sweep's later cells queue behind whatever waits when it ends
      const seconds = sweepSecondsLeft([info.cells[cell]!], sweep, rate);
      const job = { size: sweep.size, iterations: sweep.iterations };
      const run = { id, userId: sweep.author.id, seconds, job, workerId: null };
      waiting.push({ run, queuedAt });
    }
    waiting.sort((a, b) => a.queuedAt - b.queuedAt);
    const servedRaw = await redis.hgetall(this.key("served"));
    const served = new Map(Object.entries(servedRaw).map(([user, serial]) => [user, Number(serial)]));
    const plan = planDispatch(
      holding,
      waiting.map((w) => w.run),
      workers,
      served,
    );
    for (const { run, workerId, gpu } of plan.start) {
      const cell = sweeps.get(run.id);
      const job: DispatchJob = cell
        ? { kind: "sweep", id: run.id, sweepId: cell.sweep.sweepId, cell: cell.cell }
        : { kind: "run", id: run.id };
      await this.addJob(job, gpu ? "gpu" : "cpu", workerId);
      if (cell)
        log.info("sweep.dispatched", {
          sweepId: cell.sweep.sweepId,
          cell: cell.cell,
          userId: run.userId,
          workerId,
          gpu,
        });
      else log.info("run.dispatched", { runId: run.id, userId: run.userId, workerId, gpu });
    }
    if (plan.start.length > 0) {
      await redis.hset(this.key("served"), Object.fromEntries([...plan.served].map(([u, s]) => [u, String(s)])));
    }
    // forget ids of runs that ended
    const stale = [...dispatched].filter((id) => !byId.has(id));
    if (stale.length > 0) await redis.srem(dispatchedKey, ...stale);
    const held = new Set([...holding.map((r) => r.id), ...plan.start.map((s) => s.run.id)]);
    const unplaced = [...placed.keys()].filter((id) => !held.has(id));
    if (unplaced.length > 0) await redis.hdel(placedKey, ...unplaced);
    await this.publishPositions(
      plan.waiting.filter((w) => byId.has(w.run.id)),
      byId,
    );
    await this.publishSweepPositions(plan.waiting, sweeps);
    const stillWaiting = new Set(plan.waiting.map((w) => w.run.id));
    for (const id of this.published.keys()) if (!stillWaiting.has(id)) this.published.delete(id);
  }

  /**
   * The sweeps whose cell workers hold, as the fair queue's running jobs (that cell's). A cell whose
   * job is gone or over while it has not ended (its worker stopped and let go of it, or Redis lost
   * the job) is handed out again: its next worker runs it from its start.
   */
  private async heldSweeps(
    rate: number | null,
    workers: PlanWorker[],
    placed: Map<string, string>,
  ): Promise<PlanRun[]> {
    const held: PlanRun[] = [];
    for (const sweepId of await this.sweeps.held()) {
      const [sweep, info] = await Promise.all([this.sweeps.sweep(sweepId), this.sweeps.info(sweepId)]);
      const cell = info ? currentCell(info) : null;
      if (!sweep || !info || cell === null) {
        await (sweep ? this.sweeps.ended(sweep) : this.sweeps.forget(sweepId));
        continue;
      }
      const id = cellJobId(sweepId, cell);
      const run: PlanRun = {
        id,
        userId: sweep.author.id,
        seconds: sweepSecondsLeft([info.cells[cell]!], info, rate),
        job: { size: sweep.size, iterations: sweep.iterations },
        workerId: placed.get(id) ?? null,
      };
      held.push(run);
      // a sweep has no lease: its cell's job is the only sign of a holder
      if (await this.handOutAgain({ kind: "sweep", id, sweepId, cell }, run, workers, false))
        this.o.log.warn("sweep.redispatched", { sweepId, cell });
    }
    return held;
  }

  private async publishSweepPositions(
    waiting: { run: PlanRun; position: number }[],
    sweeps: Map<string, { sweep: ClusterSweep }>,
  ): Promise<void> {
    for (const { run, position } of waiting) {
      const sweep = sweeps.get(run.id)?.sweep;
      const stamp = `${position}`;
      if (!sweep || this.published.get(run.id) === stamp) continue;
      const info = await this.sweeps.info(sweep.sweepId);
      if (!info) continue;
      this.published.set(run.id, stamp);
      const next = { ...info, queuePosition: position };
      // a sweep cancelled since it was read is no longer waiting: its state stays the cancel's
      if (!(await this.sweeps.setWaitingInfo(next))) continue;
      await this.o.bus.publish({ type: "sweep", roomId: sweep.roomId, sweep: next });
    }
  }

  /**
   * Hands a held run or sweep out again when its job is gone or over (and, for a run, no live
   * worker holds its lease), or when its job waits on a queue no live worker takes from (its GPU
   * workers went) while placement.ts now sends it to the other kind. True when it did.
   */
  private async handOutAgain(
    what: DispatchJob,
    run: PlanRun,
    workers: PlanWorker[],
    hasLease = true,
  ): Promise<boolean> {
    const { job, state, queue } = await this.jobOf(run.id);
    const target = this.queueFor(run.job, workers);
    const served = (q: "cpu" | "gpu") => workers.some((w) => isGpuWorker(w) === (q === "gpu"));
    const stranded = queue !== null && queue !== target && !served(queue);
    if (isLive(state) && !stranded) return false;
    if (hasLease && isLeaseHeld(await readLease(this.o.files, run.id))) return false;
    // the rows were read at the start of the tick: a run whose worker finished it since (row
    // ended, lease let go, job completed) is not handed out a second time
    if (what.kind === "run") {
      const now = await this.o.db.run.findUnique({ where: { id: run.id }, select: { status: true } });
      if (!now || !(ACTIVE as readonly string[]).includes(now.status)) return false;
    }
    const removed = job
      ? await job.remove().then(
          () => true,
          () => false,
        )
      : true;
    // a live job that cannot be removed is locked by a worker that holds it after all: leave it there
    if (!removed && isLive(state)) return false;
    await this.addJob(what, target, null);
    return true;
  }

  /** BullMQ's job of a run or sweep (job id = its id), its state and queue (a live one first); null state: no such job. */
  private async jobOf(
    id: string,
  ): Promise<{ job: Job | undefined; state: string | null; queue: "cpu" | "gpu" | null }> {
    let found: { job: Job | undefined; state: string | null; queue: "cpu" | "gpu" | null } = {
      job: undefined,
      state: null,
      queue: null,
    };
    for (const queue of ["cpu", "gpu"] as const) {
      const job = await this.queues[queue].getJob(id);
      if (!job) continue;
      const state = await job.getState();
      if (isLive(state)) return { job, state, queue };
      found = { job, state, queue };
    }
    return found;
  }

  /** Queues a run or a sweep's cell for a kind of worker; `workerId`: the one placement chose (null: any of that kind). */
  private async addJob(what: DispatchJob, queue: "cpu" | "gpu", workerId: string | null): Promise<void> {
    const { kind, id } = what;
    // jobId = the run's id or the cell's (cellJobId): adding one twice is a no-op
    const data = what.kind === "run" ? { runId: id } : { sweepId: what.sweepId, cell: what.cell };
    await this.queues[queue].add(kind, data, {
      jobId: id,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
    const redis = this.o.bus.redis;
    await (workerId ? redis.hset(this.key("placed"), id, workerId) : redis.hdel(this.key("placed"), id));
    if (what.kind === "run") await redis.sadd(this.key("dispatched"), id);
    else await this.sweeps.markHeld(what.sweepId);
  }

  private async publishPositions(
    waiting: { run: PlanRun; position: number; etaSeconds: number | null }[],
    byId: Map<string, { row: Row; params: RunParams }>,
  ): Promise<void> {
    for (const { run, position, etaSeconds } of waiting) {
      const stamp = `${position}:${etaSeconds}`;
      if (this.published.get(run.id) === stamp) continue;
      this.published.set(run.id, stamp);
      const { row, params } = byId.get(run.id)!;
      const info = toRunInfo({ ...liveRunFromRow(row, params), queuePosition: position, etaSeconds });
      await this.o.bus.setInfo(info);
      await this.o.bus.publish({ type: "state", roomId: row.roomId, run: info, workerId: null });
    }
  }

  async close(): Promise<void> {
    this.stopGauge();
    if (this.timer) clearInterval(this.timer);
    if (this.leader) await this.o.bus.redis.del(this.key("dispatcher")).catch(() => 0);
    await Promise.all([this.queues.cpu.close(), this.queues.gpu.close()]);
  }
}

/** A job BullMQ still has going (waiting, active, delayed…), not gone and not over. */
function isLive(state: string | null): boolean {
  return state !== null && state !== "completed" && state !== "failed";
}

/** ms per pixel-iteration measured on the running runs (compute time over iterations done), or null. */
function learnedRate(rows: Row[]): number | null {
  let ms = 0;
  let work = 0;
  for (const row of rows) {
    const params = row.iterations > 0 ? readRunParams(row) : null;
    if (!params || !row.computeMs) continue;
    ms += row.computeMs;
    work += row.iterations * params.size * params.size;
  }
  return work > 0 ? ms / work : null;
}

function secondsLeft(row: Row, params: RunParams, rate: number | null): number | null {
  if (rate === null) return null;
  return (Math.max(0, params.iterations - row.iterations) * rate * params.size * params.size) / 1000;
}
