/**
 * GET /metrics: Prometheus text behind a bearer token (absent without one), with the gateway's
 * figures as real sockets use it; and the pure pieces (which dependency a logged error blames,
 * the token check).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "@atelier/protocol";
import { dependencyOf, metricsAllowed } from "../src/common/metrics.ts";
import { metricsTokenFromEnv } from "../src/config.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { connect, createFixture, request, startServer, type Client, type Fixture } from "./support.ts";

const TOKEN = "metrics-token-for-tests-0123456789";

describe("metrics decisions", () => {
  it("blames Redis or the database by the event and the error, nothing else", () => {
    expect(dependencyOf("cluster.redis_error", new Error("x"))).toBe("redis");
    expect(dependencyOf("worker.queue_error", undefined)).toBe("redis");
    expect(dependencyOf("room.save_failed", Object.assign(new Error("x"), { name: "ReplyError" }))).toBe("redis");
    expect(dependencyOf("run.db_update_failed", new Error("x"))).toBe("database");
    const prisma = Object.assign(new Error("x"), { name: "PrismaClientKnownRequestError" });
    expect(dependencyOf("room.save_failed", prisma)).toBe("database");
    expect(dependencyOf("run.keep_image_failed", new Error("x"))).toBeNull();
  });

  it("lets in only the configured token, and refuses a token too short to protect anything", () => {
    expect(metricsAllowed(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(metricsAllowed(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(metricsAllowed(undefined, TOKEN)).toBe(false);
    expect(metricsAllowed("Bearer ", null)).toBe(false);
    expect(metricsTokenFromEnv({})).toBeNull();
    expect(metricsTokenFromEnv({ ATELIER_METRICS_TOKEN: ` ${TOKEN} ` })).toBe(TOKEN);
    expect(() => metricsTokenFromEnv({ ATELIER_METRICS_TOKEN: "short" })).toThrow(/at least 16/);
  });
});

describe("GET /metrics on a gateway", () => {
  let f: Fixture;
  let server: OptimizerServer;
  let open: OptimizerServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    f = await createFixture("metrics");
    server = await startServer(f, { metricsToken: TOKEN, prewarm: false });
    open = await startServer(f, { prewarm: false });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
    await open?.close();
    await f?.cleanup();
  });

  it("answers only with the token, in Prometheus text, with the sockets, rooms, events and refusals", async () => {
    const owner = await connect(server, f.users.owner);
    clients.push(owner);
    const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    expect(joined.ok).toBe(true);
    const refused = await request(owner, "room:join", { roomId: "no-such-room", protocol: PROTOCOL_VERSION });
    expect(refused.ok).toBe(false);

    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    // a server without a token has no /metrics at all
    expect((await fetch(`${open.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);

    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (line: string) =>
      Number(new RegExp(`^${line.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    // one socket and one room on this server (the other server has none)
    expect(value('atelier_gateway{what="sockets"}')).toBe(1);
    expect(value('atelier_gateway{what="rooms"}')).toBe(1);
    expect(value('atelier_socket_events_in_total{event="room:join"}')).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^atelier_socket_events_refused_total\{event="room:join",reason="\w+"\} [1-9]/m);
    expect(value("atelier_socket_packets_out_total")).toBeGreaterThan(0);
    expect(text).toMatch(/^atelier_runs\{state="queued"\} 0$/m);
    for (const name of ["atelier_preview_fanout_seconds", "atelier_job_wait_seconds", "atelier_run_duration_seconds"])
      expect(text).toContain(`# TYPE ${name} histogram`);
    // Node's default process metrics
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});
