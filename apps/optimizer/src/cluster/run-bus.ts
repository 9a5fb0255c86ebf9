/**
 * The run bus (cluster mode): Redis pub/sub for run events (workers → gateways) and per-run
 * control messages (gateways → the worker holding the run), plus the short-lived keys a late
 * joiner on any gateway reads while a run lives (capped loss history, latest state, latest
 * preview). Every message is checked with its schema (packages/protocol cluster-runs.ts) as it
 * arrives; one that fails is logged and dropped.
 */
import { Redis } from "ioredis";
import {
  clusterPreview,
  formatZodError,
  iterationStats,
  runControl,
  runEvent,
  runInfo,
  type ClusterPreview,
  type IterationStats,
  type RunControl,
  type RunEvent,
  type RunInfo,
} from "@atelier/protocol";
import type { Logger } from "../common/log.ts";

/** The loss history kept per run in Redis for late joiners (the full curve is stored with the ended run). */
const BUS_HISTORY_CAP = 2000;
/** how long a run's keys outlive their last write: an ended run's are read from the database */
const KEY_TTL_S = 24 * 3600;

/** A Redis client for the cluster parts: retries forever (BullMQ's workers require it), errors logged. */
export function redisClient(url: string, log: Logger, name: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  client.on("error", (error: unknown) => log.warn("cluster.redis_error", { client: name, error }));
  return client;
}

type Handler = (message: string) => void;

interface MessageSchema<T> {
  safeParse(v: unknown): { success: true; data: T } | { success: false; error: Parameters<typeof formatZodError>[0] };
}

/** Parses a JSON message (or stored value) with its schema; null (logged) when it does not fit. */
export function parseMessage<T>(log: Logger, what: string, raw: string, schema: MessageSchema<T>): T | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    log.warn("cluster.invalid_message", { what, error: "not JSON" });
    return null;
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    log.warn("cluster.invalid_message", { what, error: formatZodError(parsed.error) });
    return null;
  }
  return parsed.data;
}

export class RunBus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly handlers = new Map<string, Handler>();
  private readonly eventHandlers: ((event: RunEvent) => void)[] = [];

  constructor(
    url: string,
    /** key and channel prefix, `atelier:` in production; tests use their own */
    readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.pub = redisClient(url, log, "bus-pub");
    this.sub = redisClient(url, log, "bus-sub");
    this.sub.on("message", (channel: string, message: string) => this.handlers.get(channel)?.(message));
  }

  private key(runId: string, what: "history" | "info" | "preview" | "init"): string {
    return `${this.prefix}run:${runId}:${what}`;
  }
  private get eventsChannel(): string {
    return `${this.prefix}run-events`;
  }
  private controlChannel(runId: string): string {
    return `${this.prefix}run-control:${runId}`;
  }

  private parse<T>(what: string, raw: string, schema: MessageSchema<T>): T | null {
    return parseMessage(this.log, what, raw, schema);
  }

  async publish(event: RunEvent): Promise<void> {
    await this.pub.publish(this.eventsChannel, JSON.stringify(event));
  }

  /** Calls `handler` with every valid run event from now on (runs and sweeps each listen). */
  async onEvent(handler: (event: RunEvent) => void): Promise<void> {
    this.eventHandlers.push(handler);
    if (this.eventHandlers.length > 1) return;
    this.handlers.set(this.eventsChannel, (raw) => {
      const event = this.parse("run-event", raw, runEvent);
      if (event) for (const handle of this.eventHandlers) handle(event);
    });
    await this.sub.subscribe(this.eventsChannel);
  }

  async sendControl(runId: string, control: RunControl): Promise<number> {
    return this.pub.publish(this.controlChannel(runId), JSON.stringify(control));
  }

  /** Listens for the run's control messages; returns the function that stops listening. */
  async onControl(runId: string, handler: (control: RunControl) => void): Promise<() => Promise<void>> {
    const channel = this.controlChannel(runId);
    this.handlers.set(channel, (raw) => {
      const control = this.parse("run-control", raw, runControl);
      if (control) handler(control);
    });
    await this.sub.subscribe(channel);
    return async () => {
      this.handlers.delete(channel);
      await this.sub.unsubscribe(channel).catch(() => {});
    };
  }

  async pushStats(stats: IterationStats): Promise<void> {
    const key = this.key(stats.runId, "history");
    await this.pub
      .multi()
      .rpush(key, JSON.stringify(stats))
      .ltrim(key, -BUS_HISTORY_CAP, -1)
      .expire(key, KEY_TTL_S)
      .exec();
  }

  /** Drops the history after `iteration` (a resumed run redoes those iterations). */
  async trimHistory(runId: string, iteration: number): Promise<void> {
    const kept = (await this.history(runId)).filter((s) => s.iteration <= iteration);
    const key = this.key(runId, "history");
    const tx = this.pub.multi().del(key);
    if (kept.length > 0) tx.rpush(key, ...kept.map((s) => JSON.stringify(s))).expire(key, KEY_TTL_S);
    await tx.exec();
  }

  async history(runId: string): Promise<IterationStats[]> {
    const raw = await this.pub.lrange(this.key(runId, "history"), 0, -1);
    return raw.map((r) => this.parse("run-history", r, iterationStats)).filter((s) => s !== null);
  }

  async setInfo(info: RunInfo): Promise<void> {
    await this.pub.set(this.key(info.runId, "info"), JSON.stringify(info), "EX", KEY_TTL_S);
  }

  async info(runId: string): Promise<RunInfo | null> {
    const raw = await this.pub.get(this.key(runId, "info"));
    return raw ? this.parse("run-info", raw, runInfo) : null;
  }

  async setPreview(frame: ClusterPreview): Promise<void> {
    await this.pub.set(this.key(frame.runId, "preview"), JSON.stringify(frame), "EX", KEY_TTL_S);
  }

  async preview(runId: string): Promise<ClusterPreview | null> {
    const raw = await this.pub.get(this.key(runId, "preview"));
    return raw ? this.parse("run-preview", raw, clusterPreview) : null;
  }

  /** The image file (relative to DATA_DIR) a new run starts from when it is not a run's (a promoted sweep cell). */
  async setInitImage(runId: string, relativePath: string): Promise<void> {
    await this.pub.set(this.key(runId, "init"), relativePath, "EX", KEY_TTL_S);
  }

  async initImage(runId: string): Promise<string | null> {
    return this.pub.get(this.key(runId, "init"));
  }

  /** A raw client for the other cluster parts (worker slots, the dispatcher lease). */
  get redis(): Redis {
    return this.pub;
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.allSettled([this.pub.quit(), this.sub.quit()]);
  }
}
