/**
 * The fault-injection helpers the chaos tests rely on do what they claim: the fault proxy really
 * drops connections and refuses new ones until restored (same port), and a private Redis killed
 * and started again really loses its data and serves on the same port.
 */
// test-plan: one database engine (it opens no database: support.ts is imported for its helpers only)
import net from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy, startRedis, type FaultProxy, type PrivateRedis } from "./support-chaos.ts";
import { waitUntil } from "./support.ts";

function connectOnce(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

describe("fault injection helpers", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it("a fault proxy forwards, then drops everything and refuses, then forwards again on its port", async () => {
    // an echo server as the target
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => echo.close(resolve)));
    const proxy: FaultProxy = await startFaultProxy({ port: (echo.address() as net.AddressInfo).port });
    cleanup.push(() => proxy.close());

    const roundTrip = async (s: net.Socket) => {
      const reply = new Promise<string>((resolve) => s.once("data", (d) => resolve(d.toString())));
      s.write("ping");
      return reply;
    };
    const before = await connectOnce(proxy.port);
    expect(await roundTrip(before)).toBe("ping");
    await waitUntil(() => proxy.open === 1, "one connection open", 2_000);

    const dropped = new Promise<void>((resolve) => before.once("close", () => resolve()));
    before.on("error", () => {});
    await proxy.cut();
    await dropped;
    await expect(connectOnce(proxy.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });

    await proxy.restore();
    const after = await connectOnce(proxy.port);
    expect(await roundTrip(after)).toBe("ping");
    after.destroy();
  });

  it("a private Redis killed and started again serves the same port, empty", async () => {
    const redis: PrivateRedis = await startRedis();
    cleanup.push(() => redis.stop());
    const client = new Redis(redis.url, { retryStrategy: () => 50, maxRetriesPerRequest: null });
    client.on("error", () => {});
    cleanup.push(() => client.quit().catch(() => {}));
    await client.set("k", "v");
    expect(await client.get("k")).toBe("v");

    await redis.kill();
    await expect(connectOnce(redis.port)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await redis.start();
    // the same client finds it again on its own, and what it held is gone
    await waitUntil(() => client.status === "ready", "the client reconnected", 5_000);
    expect(await client.get("k")).toBeNull();
  });
});
