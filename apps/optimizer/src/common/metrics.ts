/**
 * Prometheus metrics of this process (prom-client, text format), served by `GET /metrics` on
 * the gateway's port and on a worker's health port — only to a request that carries
 * `Authorization: Bearer <ATELIER_METRICS_TOKEN>`; without that variable set, /metrics does
 * not exist (404). One registry per process: the parts that own a figure (the gateway's
 * sockets and rooms, the dispatcher's queue) add a source while they run and remove it when
 * they close, so a test process with several servers reports their sum. Names: README.md.
 */
import { timingSafeEqual } from "node:crypto";
import client from "prom-client";
import { onLogged } from "./log.ts";

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const registers = [registry];

/** time of one frame from its encoding (on the worker) to its hand-over to the gateway's sockets */
const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** waits and runs: seconds to hours */
const SECONDS_SLOW = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

export const metrics = {
  eventsIn: new client.Counter({
    name: "atelier_socket_events_in_total",
    help: "client events received by this gateway",
    labelNames: ["event"] as const,
    registers,
  }),
  eventsRefused: new client.Counter({
    name: "atelier_socket_events_refused_total",
    help: "client events answered with an error, by reason (invalid payload, a refusal's code, internal)",
    labelNames: ["event", "reason"] as const,
    registers,
  }),
  packetsOut: new client.Counter({
    name: "atelier_socket_packets_out_total",
    help: "packets written to this gateway's sockets (events, acks, broadcasts)",
    registers,
  }),
  previewFanout: new client.Histogram({
    name: "atelier_preview_fanout_seconds",
    help: "a preview frame's time from its encoding on the worker to its hand-over to this gateway's sockets",
    buckets: SECONDS_FAST,
    registers,
  }),
  previewDropped: new client.Counter({
    name: "atelier_preview_frames_dropped_total",
    help: "preview frames not sent to a busy client (a newer frame replaced them)",
    registers,
  }),
  jobWait: new client.Histogram({
    name: "atelier_job_wait_seconds",
    help: "a run's time from being queued to starting on an engine (this node started it)",
    buckets: SECONDS_SLOW,
    registers,
  }),
  runDuration: new client.Histogram({
    name: "atelier_run_duration_seconds",
    help: "a run's time from its start to its end on this node, by how it ended",
    labelNames: ["status"] as const,
    buckets: SECONDS_SLOW,
    registers,
  }),
  iterations: new client.Counter({
    name: "atelier_iterations_total",
    help: "optimisation iterations done by this node's engines, by backend (rate() gives iterations/s)",
    labelNames: ["backend"] as const,
    registers,
  }),
  engineRestarts: new client.Counter({
    name: "atelier_engine_restarts_total",
    help: "engines that died under a job (crash, kill) and are replaced by a fresh one for the next job",
    registers,
  }),
  dependencyErrors: new client.Counter({
    name: "atelier_dependency_errors_total",
    help: "errors of Redis or the database that this process logged",
    labelNames: ["dependency"] as const,
    registers,
  }),
  problems: new client.Counter({
    name: "atelier_log_problems_total",
    help: "warnings and errors this process logged, by level and event",
    labelNames: ["level", "event"] as const,
    registers,
  }),
};

type Labels = Record<string, string>;
type Source = () => Promise<[Labels, number][]> | [Labels, number][];

/** A gauge whose value is the sum of its live sources' figures, read at each scrape. */
function summedGauge(name: string, help: string, labelNames: string[]) {
  const sources = new Set<Source>();
  new client.Gauge({
    name,
    help,
    labelNames,
    registers,
    async collect() {
      this.reset();
      const all = await Promise.all([...sources].map((s) => Promise.resolve(s()).catch(() => [])));
      for (const [labels, value] of all.flat()) this.inc(labels, value);
    },
  });
  return (source: Source) => {
    sources.add(source);
    return () => void sources.delete(source);
  };
}

export const gauges = {
  /** this gateway's connected sockets and loaded rooms */
  gateway: summedGauge("atelier_gateway", "this gateway's connected sockets and loaded rooms (what)", ["what"]),
  /** runs in this node's view, by state */
  runs: summedGauge("atelier_runs", "runs this node knows of, by state (queued, running)", ["state"]),
  /** the cluster's BullMQ run queue, by state (read by each gateway) */
  queue: summedGauge("atelier_queue_jobs", "jobs in the cluster's run queue, by BullMQ state", ["state"]),
};

/** Which dependency a logged problem comes from, if any (Redis, the database): pure, unit-tested. */
export function dependencyOf(event: string, error: unknown): "redis" | "database" | null {
  const name = error instanceof Error ? error.name : "";
  if (/redis|queue_error/.test(event) || name === "ReplyError" || name === "MaxRetriesPerRequestError") return "redis";
  if (event.includes("db_") || name.startsWith("Prisma") || name === "DriverAdapterError") return "database";
  return null;
}

onLogged((level, event, fields) => {
  if (level !== "warn" && level !== "error") return;
  metrics.problems.inc({ level, event });
  const dependency = dependencyOf(event, fields?.error);
  if (dependency) metrics.dependencyErrors.inc({ dependency });
});

/** Whether a request may read the metrics: the configured token, compared in constant time. */
export function metricsAllowed(authorization: string | undefined, token: string | null): boolean {
  if (!token) return false;
  const given = Buffer.from(authorization?.replace(/^Bearer\s+/i, "") ?? "");
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
