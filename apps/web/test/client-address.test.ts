import { request as httpRequest, createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientAddress,
  NO_TRUSTED_PROXIES,
  normaliseAddress,
  parseTrustedProxies,
  PEER_HEADER,
} from "@/server/client-address";
import { installPeerAddressHeader } from "@/server/peer-address";
import { jsonRequest, setupTestEnv, type TestEnv } from "./helpers";

describe("clientAddress (pure)", () => {
  it("without trusted proxies is the peer, whatever X-Forwarded-For says", () => {
    expect(clientAddress(null, "198.51.100.7", NO_TRUSTED_PROXIES)).toBe("198.51.100.7");
    expect(clientAddress("203.0.113.1", "198.51.100.7", NO_TRUSTED_PROXIES)).toBe("198.51.100.7");
    expect(clientAddress("203.0.113.1, 10.0.0.1", "::ffff:198.51.100.7", NO_TRUSTED_PROXIES)).toBe("198.51.100.7");
    expect(clientAddress("203.0.113.1", null, NO_TRUSTED_PROXIES)).toBe("unknown");
  });

  it("with N trusted hops takes the entry the outermost trusted proxy appended", () => {
    const one = parseTrustedProxies("1");
    expect(one).toEqual({ kind: "count", count: 1 });
    // the client forged "1.1.1.1"; the proxy appended the real address
    expect(clientAddress("1.1.1.1, 203.0.113.9", "10.0.0.2", one)).toBe("203.0.113.9");
    expect(clientAddress("203.0.113.9", "10.0.0.2", one)).toBe("203.0.113.9");
    expect(clientAddress(null, "10.0.0.2", one)).toBe("10.0.0.2");
    const two = parseTrustedProxies(" 2 ");
    expect(clientAddress("1.1.1.1, 203.0.113.9, 10.0.0.5", "10.0.0.2", two)).toBe("203.0.113.9");
  });

  it("with trusted addresses walks left past them only", () => {
    const trusted = parseTrustedProxies("10.0.0.2, 10.0.0.5,[::1]");
    expect(trusted).toEqual({ kind: "addresses", addresses: ["10.0.0.2", "10.0.0.5", "::1"] });
    expect(clientAddress("1.1.1.1, 203.0.113.9, 10.0.0.5", "10.0.0.2", trusted)).toBe("203.0.113.9");
    // a peer that is not a configured proxy: its header is not believed
    expect(clientAddress("1.1.1.1", "198.51.100.7", trusted)).toBe("198.51.100.7");
    expect(clientAddress("1.1.1.1", "::1", trusted)).toBe("1.1.1.1");
    expect(clientAddress("garbage!!, 203.0.113.9", "10.0.0.2", trusted)).toBe("203.0.113.9");
  });

  it("normalises addresses into stable keys", () => {
    expect(normaliseAddress(" ::FFFF:192.0.2.1 ")).toBe("192.0.2.1");
    expect(normaliseAddress("192.0.2.1:5123")).toBe("192.0.2.1");
    expect(normaliseAddress("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(normaliseAddress("")).toBeNull();
    expect(normaliseAddress("a b")).toBeNull();
    expect(normaliseAddress("x".repeat(100))).toBeNull();
    expect(parseTrustedProxies(undefined)).toEqual(NO_TRUSTED_PROXIES);
    expect(parseTrustedProxies("")).toEqual(NO_TRUSTED_PROXIES);
  });
});

describe("the peer-address hook on a real HTTP server", () => {
  it("records the TCP peer and overwrites a client-sent value", async () => {
    installPeerAddressHeader();
    let seen: IncomingHttpHeaders = {};
    const server = createServer((req, res) => {
      seen = req.headers;
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        {
          port,
          host: "127.0.0.1",
          path: "/",
          headers: { [PEER_HEADER]: "203.0.113.66", "x-forwarded-for": "1.2.3.4" },
        },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end();
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(seen[PEER_HEADER]).toBe("127.0.0.1");
    expect(seen["x-forwarded-for"]).toBe("1.2.3.4");
  });
});

describe("sign-up limits and X-Forwarded-For", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await setupTestEnv();
    process.env.ATELIER_SIGNUP_LIMIT_PER_IP = "3";
  });
  afterAll(async () => {
    delete process.env.ATELIER_SIGNUP_LIMIT_PER_IP;
    delete process.env.ATELIER_TRUSTED_PROXIES;
    await env.cleanup();
  });

  const signUp = async (n: string, ip: string, forwardedFor: string) => {
    const { POST } = await import("@/app/api/signup/route");
    const body = { name: "Xu", email: `xu-${n}@example.com`, password: "brushes&oil9" };
    return (await POST(jsonRequest("/api/signup", "POST", body, { ip, forwardedFor }))).status;
  };

  it("rotating X-Forwarded-For from one peer does not reset the per-address limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push(await signUp(`rot${i}`, "198.51.100.20", `203.0.113.${i}`));
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
  });

  it("behind a configured proxy, each forwarded client has its own limit", async () => {
    process.env.ATELIER_TRUSTED_PROXIES = "10.9.0.1";
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push(await signUp(`px-a${i}`, "10.9.0.1", "1.1.1.1, 203.0.113.50"));
    statuses.push(await signUp("px-a3", "10.9.0.1", "9.9.9.9, 203.0.113.50"));
    statuses.push(await signUp("px-b0", "10.9.0.1", "203.0.113.51"));
    expect(statuses).toEqual([201, 201, 201, 429, 201]);
    // once 10.9.0.1 is not a configured proxy, its forwarded address (exhausted above) is not
    // believed: the attempt counts against the peer itself
    process.env.ATELIER_TRUSTED_PROXIES = "10.9.0.99";
    expect(await signUp("px-c0", "10.9.0.1", "203.0.113.50")).toBe(201);
  });
});
