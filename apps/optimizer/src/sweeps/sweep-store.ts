/**
 * Cluster sweeps in Redis (keys listed in protocol's cluster-runs.ts): the queued sweep, its
 * public state and each cell's latest frame, the room's latest sweep, and the two sets the
 * dispatcher reads: waiting (its next cell waits for a slot) and held (a cell is with the
 * workers). A sweep goes back and forth between them, once per cell (cellEnded). The sweep's
 * database row (sweeps/sweep-rows.ts) is the lasting record: a Redis that loses its state loses
 * the sweeps going, and their rows are then ended visibly (sweeps/cluster-sweeps.ts).
 */
import type { Redis } from "ioredis";
import {
  clusterSweep,
  clusterSweepFrame,
  sweepInfo,
  type ClusterSweep,
  type ClusterSweepFrame,
  type SweepInfo,
} from "@atelier/protocol";
import type { Logger } from "../common/log.ts";
import { parseMessage } from "../cluster/run-bus.ts";

/** how long a sweep's keys outlive their last write */
const KEY_TTL_S = 24 * 3600;

/**
 * Queues a sweep (KEYS: the room's going key, the sweep's job and info keys, the room's latest
 * key, the waiting set; ARGV: id, job, info, created at, TTL, the sweep key prefix) unless the
 * room's going sweep still has cells queued or running. A going key left behind by a sweep that
 * ended (its holder died between its last cell and letting go) does not block the room.
 */
const CREATE_SWEEP = `
local going = redis.call("get", KEYS[1])
if going then
  local info = redis.call("get", ARGV[6] .. going .. ":info")
  if info then
    local ok, decoded = pcall(cjson.decode, info)
    if not ok then return 0 end
    for _, cell in ipairs(decoded.cells) do
      if cell.status == "queued" or cell.status == "running" then return 0 end
    end
  end
end
redis.call("set", KEYS[1], ARGV[1], "EX", ARGV[5])
redis.call("set", KEYS[2], ARGV[2], "EX", ARGV[5])
redis.call("set", KEYS[3], ARGV[3], "EX", ARGV[5])
redis.call("set", KEYS[4], ARGV[1], "EX", ARGV[5])
redis.call("zadd", KEYS[5], ARGV[4], ARGV[1])
return 1
`;

/** Deletes the room's "a sweep is going" key only if it still names this sweep. */
const RELEASE_ROOM = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;

/** Writes a waiting sweep's state (its queue position) only while it is still waiting (KEYS: waiting set, info key). */
const SET_IF_WAITING = `
if redis.call("zscore", KEYS[1], ARGV[1]) then
  redis.call("set", KEYS[2], ARGV[2], "EX", ARGV[3])
  return 1
end
return 0
`;

export class SweepStore {
  constructor(
    private readonly redis: Redis,
    /** `atelier:`; tests use their own */
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  private key(what: string): string {
    return `${this.prefix}${what}`;
  }
  private sweepKey(sweepId: string, what: "job" | "info" | "frames"): string {
    return this.key(`sweep:${sweepId}:${what}`);
  }
  private roomKey(roomId: string, what: "sweep" | "sweep-going"): string {
    return this.key(`room:${roomId}:${what}`);
  }

  /**
   * Queues a sweep unless one is going in its room (one at a time per room, across gateways:
   * decided in one Lua step, all keys written together). False: refused, nothing written.
   */
  async create(sweep: ClusterSweep, info: SweepInfo): Promise<boolean> {
    const queued = await this.redis.eval(
      CREATE_SWEEP,
      5,
      this.roomKey(sweep.roomId, "sweep-going"),
      this.sweepKey(sweep.sweepId, "job"),
      this.sweepKey(sweep.sweepId, "info"),
      this.roomKey(sweep.roomId, "sweep"),
      this.key("sweeps:waiting"),
      sweep.sweepId,
      JSON.stringify(sweep),
      JSON.stringify(info),
      String(sweep.createdAt),
      String(KEY_TTL_S),
      this.key("sweep:"),
    );
    return queued === 1;
  }

  async sweep(sweepId: string): Promise<ClusterSweep | null> {
    const raw = await this.redis.get(this.sweepKey(sweepId, "job"));
    return raw ? parseMessage(this.log, "sweep", raw, clusterSweep) : null;
  }

  async info(sweepId: string): Promise<SweepInfo | null> {
    const raw = await this.redis.get(this.sweepKey(sweepId, "info"));
    return raw ? parseMessage(this.log, "sweep-info", raw, sweepInfo) : null;
  }

  async setInfo(info: SweepInfo): Promise<void> {
    await this.redis.set(this.sweepKey(info.sweepId, "info"), JSON.stringify(info), "EX", KEY_TTL_S);
  }

  /**
   * The dispatcher's queue position of a waiting sweep: written only if it still waits, so a
   * cancel (which takes it out of the waiting set before writing its state) is never overwritten
   * by the position read before it. True when written.
   */
  async setWaitingInfo(info: SweepInfo): Promise<boolean> {
    const written = await this.redis.eval(
      SET_IF_WAITING,
      2,
      this.key("sweeps:waiting"),
      this.sweepKey(info.sweepId, "info"),
      info.sweepId,
      JSON.stringify(info),
      String(KEY_TTL_S),
    );
    return written === 1;
  }

  async setFrame(frame: ClusterSweepFrame): Promise<void> {
    const key = this.sweepKey(frame.sweepId, "frames");
    await this.redis.multi().hset(key, String(frame.cell), JSON.stringify(frame)).expire(key, KEY_TTL_S).exec();
  }

  /** Each cell's latest frame, by cell index. */
  async frames(sweepId: string): Promise<ClusterSweepFrame[]> {
    const raw = await this.redis.hgetall(this.sweepKey(sweepId, "frames"));
    return Object.values(raw)
      .map((r) => parseMessage(this.log, "sweep-frame", r, clusterSweepFrame))
      .filter((f) => f !== null)
      .sort((a, b) => a.cell - b.cell);
  }

  /** The id of the room's latest sweep (going or ended), null when it has none in Redis. */
  latest(roomId: string): Promise<string | null> {
    return this.redis.get(this.roomKey(roomId, "sweep"));
  }

  /**
   * The sweeps whose next cell waits for a worker, oldest first (one read for all), each with its
   * state and when that cell was queued.
   */
  async waiting(): Promise<{ sweep: ClusterSweep; info: SweepInfo; queuedAt: number }[]> {
    const scored = await this.redis.zrange(this.key("sweeps:waiting"), "0", "-1", "WITHSCORES");
    if (scored.length === 0) return [];
    const ids = scored.filter((_, i) => i % 2 === 0);
    const [jobs, infos] = await Promise.all([
      this.redis.mget(ids.map((id) => this.sweepKey(id, "job"))),
      this.redis.mget(ids.map((id) => this.sweepKey(id, "info"))),
    ]);
    const sweeps: { sweep: ClusterSweep; info: SweepInfo; queuedAt: number }[] = [];
    for (const [i, id] of ids.entries()) {
      const sweep = jobs[i] ? parseMessage(this.log, "sweep", jobs[i], clusterSweep) : null;
      const info = infos[i] ? parseMessage(this.log, "sweep-info", infos[i], sweepInfo) : null;
      // its keys expired or were never written whole: it can never run
      if (sweep && info) sweeps.push({ sweep, info, queuedAt: Number(scored[2 * i + 1]) });
      else await this.forget(id);
    }
    return sweeps;
  }

  /**
   * A cell ended on a worker: its state is written and, when cells are left, the sweep goes back
   * to the waiting set (its next cell queued now, behind the jobs that waited meanwhile) — in one
   * step, so the dispatcher never sees it held with no cell going.
   */
  async cellEnded(info: SweepInfo): Promise<void> {
    await this.redis
      .multi()
      .set(this.sweepKey(info.sweepId, "info"), JSON.stringify(info), "EX", KEY_TTL_S)
      .srem(this.key("sweeps:held"), info.sweepId)
      .zadd(this.key("sweeps:waiting"), Date.now(), info.sweepId)
      .exec();
  }

  /** The dispatcher handed it to the workers. */
  async markHeld(sweepId: string): Promise<void> {
    await this.redis.multi().zrem(this.key("sweeps:waiting"), sweepId).sadd(this.key("sweeps:held"), sweepId).exec();
  }

  /** The sweeps handed to the workers and not ended. */
  held(): Promise<string[]> {
    return this.redis.smembers(this.key("sweeps:held"));
  }

  /** It ended (every cell did): out of the dispatcher's sets, and the room may start another. */
  async ended(sweep: Pick<ClusterSweep, "sweepId" | "roomId">): Promise<void> {
    await this.redis.eval(RELEASE_ROOM, 1, this.roomKey(sweep.roomId, "sweep-going"), sweep.sweepId);
    await this.forget(sweep.sweepId);
  }

  /** Out of the dispatcher's sets (its keys are gone: nothing to run, no room to release). */
  async forget(sweepId: string): Promise<void> {
    await this.redis.multi().zrem(this.key("sweeps:waiting"), sweepId).srem(this.key("sweeps:held"), sweepId).exec();
  }
}
