import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { contentSecurityPolicy, optimizerOrigins, securityHeaders, servedOverHttps } from "@/server/security-headers";
import { proxy, config } from "@/proxy";
import { createUser, request, sessionCookie, setupTestEnv } from "./helpers";

const base = { optimizerUrl: "http://localhost:4001", oauth: { github: false, google: false }, development: false };

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(";").map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

describe("security headers (pure)", () => {
  it("forbid framing and sniffing, limit referrers and features, HSTS only over https", () => {
    const plain = securityHeaders({ ...base, https: false });
    expect(plain).toMatchObject({
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "same-origin",
      "Permissions-Policy": expect.stringContaining("camera=()"),
    });
    expect(plain["Strict-Transport-Security"]).toBeUndefined();
    expect(securityHeaders({ ...base, https: true })["Strict-Transport-Security"]).toBe(
      "max-age=31536000; includeSubDomains",
    );
  });

  it("the CSP allows this origin and the optimiser (http and ws), nothing else to connect to", () => {
    const d = directives(
      contentSecurityPolicy({ ...base, optimizerUrl: "https://rt.atelier.example:8443/", https: true }),
    );
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.get("connect-src")).toEqual([
      "'self'",
      "https://rt.atelier.example:8443",
      "wss://rt.atelier.example:8443",
    ]);
    expect(d.get("script-src")).toEqual(["'self'", "'unsafe-inline'"]);
    expect(d.get("object-src")).toEqual(["'none'"]);
    expect(d.get("base-uri")).toEqual(["'self'"]);
    expect(d.has("upgrade-insecure-requests")).toBe(true);
    const dev = directives(contentSecurityPolicy({ ...base, development: true, https: false }));
    expect(dev.get("script-src")).toContain("'unsafe-eval'");
    expect(dev.has("upgrade-insecure-requests")).toBe(false);
  });

  it("optimizerOrigins ignores what is not an http(s) URL", () => {
    expect(optimizerOrigins("http://h:1/socket")).toEqual(["http://h:1", "ws://h:1"]);
    expect(optimizerOrigins("not a url")).toEqual([]);
    expect(optimizerOrigins("javascript:alert(1)")).toEqual([]);
  });

  it("servedOverHttps reads the URL or the forwarded protocol", () => {
    expect(servedOverHttps("https://a/", null)).toBe(true);
    expect(servedOverHttps("http://a/", "https, http")).toBe(true);
    expect(servedOverHttps("http://a/", null)).toBe(false);
  });
});

describe("the request proxy", () => {
  afterEach(() => {
    delete process.env.ATELIER_OPTIMIZER_URL;
  });

  it("puts the headers on every page and API path, with the optimiser origin configured at run time", () => {
    process.env.ATELIER_OPTIMIZER_URL = "http://optimizer.test:4001";
    const paths = [
      "/",
      "/signin",
      "/dashboard",
      "/rooms/r1",
      "/results/x",
      "/invite/tok",
      "/gallery",
      "/api/images/i1",
      "/nope",
    ];
    const matcher = new RegExp(`^${config.matcher[0]}$`);
    for (const path of paths) {
      expect(matcher.test(path)).toBe(true);
      const res = proxy(new NextRequest(`http://localhost:3000${path}`));
      const csp = res.headers.get("content-security-policy") ?? "";
      expect([path, directives(csp).get("frame-ancestors")]).toEqual([path, ["'none'"]]);
      expect(directives(csp).get("connect-src")).toContain("ws://optimizer.test:4001");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
    expect(matcher.test("/_next/static/chunks/app.js")).toBe(false);
    const https = proxy(new NextRequest("https://atelier.example/rooms/r1"));
    expect(https.headers.get("strict-transport-security")).toContain("max-age=");
  });
});

describe("cross-site requests (CSRF in depth)", () => {
  it("crossSiteRefusal (pure): state-changing API calls from other sites only", async () => {
    const { crossSiteRefusal } = await import("@/server/csrf");
    const base = {
      pathname: "/api/rooms",
      origin: null,
      secFetchSite: null,
      host: "a.example",
      rule: { publicOrigins: ["https://a.example"], allowedHosts: [] },
    };
    expect(crossSiteRefusal({ ...base, method: "POST" })).toBeNull(); // no browser headers: not a browser
    expect(
      crossSiteRefusal({ ...base, method: "POST", origin: "https://a.example", secFetchSite: "same-origin" }),
    ).toBeNull();
    expect(crossSiteRefusal({ ...base, method: "POST", origin: "https://evil.example" })).toMatch(/cross-origin/);
    expect(crossSiteRefusal({ ...base, method: "DELETE", secFetchSite: "cross-site" })).toMatch(/cross-site/);
    expect(crossSiteRefusal({ ...base, method: "PUT", secFetchSite: "same-site" })).toMatch(/cross-site/);
    expect(crossSiteRefusal({ ...base, method: "POST", origin: "null" })).toMatch(/cross-origin/);
    expect(
      crossSiteRefusal({ ...base, method: "GET", origin: "https://evil.example", secFetchSite: "cross-site" }),
    ).toBeNull();
    expect(crossSiteRefusal({ ...base, pathname: "/rooms/x", method: "POST", secFetchSite: "cross-site" })).toBeNull();
  });

  it("the proxy answers a cross-site POST 403 before any route runs; same-origin goes through", () => {
    const post = (headers: Record<string, string>) =>
      proxy(new NextRequest("http://localhost:3000/api/results/r1/like", { method: "PUT", headers }));
    const evil = post({ origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "text/plain" });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("x-content-type-options")).toBe("nosniff");
    const same = post({ origin: "http://localhost:3000", "sec-fetch-site": "same-origin" });
    expect(same.status).toBe(200);
    expect(same.headers.get("x-middleware-next")).toBe("1");
  });

  it("one origin rule on any host: 127.0.0.1, a LAN address and a proxy (Host read, X-Forwarded-Host never)", () => {
    // `next start` gives request.url its own hostname (localhost) whatever the browser used: the
    // Host header says which host the request arrived on
    const write = (headers: Record<string, string>) =>
      proxy(new NextRequest("http://localhost:3000/api/rooms", { method: "POST", headers }));
    const passes = (res: Response) => res.status === 200 && res.headers.get("x-middleware-next") === "1";
    const browser = (origin: string, host: string, extra: Record<string, string> = {}) =>
      write({ origin, host, "sec-fetch-site": "same-origin", ...extra });
    try {
      expect(passes(browser("http://127.0.0.1:3000", "127.0.0.1:3000"))).toBe(true);
      expect(passes(browser("http://192.168.1.23:3000", "192.168.1.23:3000"))).toBe(true);
      expect(passes(browser("http://[::1]:3000", "[::1]:3000"))).toBe(true);
      // a DNS name needs listing (DNS rebinding)
      expect(browser("http://rebound.evil.example:3000", "rebound.evil.example:3000").status).toBe(403);
      process.env.ATELIER_ALLOWED_HOSTS = "atelier.lan";
      expect(passes(browser("http://atelier.lan:3000", "atelier.lan:3000"))).toBe(true);
      // a proxy that talks to the app as 127.0.0.1:3000: X-Forwarded-Host is not believed…
      const proxied = { "x-forwarded-host": "atelier.example", "x-forwarded-proto": "https" };
      expect(browser("https://atelier.example", "127.0.0.1:3000", proxied).status).toBe(403);
      expect(browser("https://evil.example", "127.0.0.1:3000", { "x-forwarded-host": "evil.example" }).status).toBe(
        403,
      );
      // …the public origin is configured instead
      process.env.ATELIER_PUBLIC_URL = "https://atelier.example/";
      expect(passes(browser("https://atelier.example", "127.0.0.1:3000", proxied))).toBe(true);
      expect(browser("https://evil.example", "127.0.0.1:3000", { "x-forwarded-host": "evil.example" }).status).toBe(
        403,
      );
    } finally {
      delete process.env.ATELIER_ALLOWED_HOSTS;
      delete process.env.ATELIER_PUBLIC_URL;
    }
  });

  it("a page opened on 127.0.0.1 or a LAN address reaches the optimiser there too (CSP connect-src, realtime URL)", async () => {
    delete process.env.ATELIER_OPTIMIZER_URL; // the default, http://localhost:4001
    const page = proxy(new NextRequest("http://localhost:3000/rooms/r1", { headers: { host: "192.168.1.23:3000" } }));
    const connect = directives(page.headers.get("content-security-policy") ?? "").get("connect-src");
    expect(connect).toEqual(["'self'", "http://192.168.1.23:4001", "ws://192.168.1.23:4001"]);
    const env = await setupTestEnv();
    try {
      delete process.env.ATELIER_OPTIMIZER_URL;
      const user = await createUser(env.db, "Lan");
      const { GET } = await import("@/app/api/realtime-token/route");
      const res = await GET(
        request("/api/realtime-token", { cookie: await sessionCookie(user), headers: { host: "127.0.0.1:3000" } }),
      );
      expect((await res.json()).url).toBe("http://127.0.0.1:4001");
    } finally {
      await env.cleanup();
    }
  });

  it("JSON routes refuse a text/plain body (what a cross-site form can send) with 415 and change nothing", async () => {
    const env = await setupTestEnv();
    try {
      const user = await createUser(env.db, "Csrf");
      const { POST } = await import("@/app/api/rooms/route");
      const res = await POST(
        request("/api/rooms", {
          method: "POST",
          cookie: await sessionCookie(user),
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ name: "Planted" }),
        }),
      );
      expect(res.status).toBe(415);
      expect(await env.db.room.count({ where: { ownerId: user.id } })).toBe(0);
    } finally {
      await env.cleanup();
    }
  });
});
