import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyRealtimeToken, verifySessionEnded } from "@atelier/protocol/token";
import { createUser, jsonRequest, request, sessionCookie, setupTestEnv, BASE, type TestEnv } from "./helpers";

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
  process.env.ATELIER_SIGNUP_LIMIT_PER_IP = "4";
});
afterAll(async () => {
  delete process.env.ATELIER_SIGNUP_LIMIT_PER_IP;
  await env.cleanup();
});

describe("POST /api/signup", () => {
  it("creates an account with a bcrypt hash and refuses a taken email", async () => {
    const { POST } = await import("@/app/api/signup/route");
    const res = await POST(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Ada", email: " Ada@Example.com ", password: "brushes&oil9" },
        { ip: "10.0.0.1" },
      ),
    );
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.user.email).toBe("ada@example.com");
    const stored = await env.db.user.findUniqueOrThrow({ where: { email: "ada@example.com" } });
    expect(stored.passwordHash).toMatch(/^\$2[aby]\$10\$/);
    expect(stored.passwordHash).not.toContain("brushes");

    const again = await POST(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Ada 2", email: "ada@example.com", password: "another-pass7" },
        { ip: "10.0.0.1" },
      ),
    );
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({ error: expect.stringContaining("already exists"), field: "email" });
  });

  it("explains what is wrong with invalid input and creates nothing", async () => {
    const { POST } = await import("@/app/api/signup/route");
    const cases: Array<[unknown, string, RegExp]> = [
      [{ name: "Bo", email: "not-an-email", password: "brushes&oil9" }, "email", /valid email/],
      [{ name: "Bo", email: "bo@example.com", password: "short1" }, "password", /too weak.*at least 8/],
      [{ name: "Bo", email: "bo@example.com", password: "onlyletters" }, "password", /too weak.*number or symbol/],
      [{ name: "", email: "bo@example.com", password: "brushes&oil9" }, "name", /name/],
    ];
    for (const [body, field, message] of cases) {
      const res = await POST(jsonRequest("/api/signup", "POST", body, { ip: "10.0.0.2" }));
      expect(res.status).toBe(400);
      const reply = await res.json();
      expect(reply.field).toBe(field);
      expect(reply.error).toMatch(message);
    }
    expect(await env.db.user.count({ where: { email: "bo@example.com" } })).toBe(0);
    const notJson = await POST(request("/api/signup", { method: "POST", body: "name=x", ip: "10.0.0.3" }));
    expect(notJson.status).toBe(415);
    const badJson = await POST(
      request("/api/signup", {
        method: "POST",
        body: "{",
        ip: "10.0.0.3",
        headers: { "content-type": "application/json" },
      }),
    );
    expect(badJson.status).toBe(400);
  });

  it("refuses reserved addresses (.invalid, .test, …) and the site's own display name, creating nothing", async () => {
    const { POST } = await import("@/app/api/signup/route");
    const cases: Array<[unknown, string, RegExp]> = [
      [{ name: "Eve", email: "styles@atelier.invalid", password: "brushes&oil9" }, "email", /\.invalid cannot receive/],
      [{ name: "Eve", email: "eve@Host.LOCALHOST", password: "brushes&oil9" }, "email", /\.localhost cannot receive/],
      [
        { name: "Atelier collection", email: "reserved-names@example.com", password: "brushes&oil9" },
        "name",
        /reserved/,
      ],
      [
        { name: "  ＡＴＥＬＩＥＲ_Collection ", email: "reserved-names@example.com", password: "brushes&oil9" },
        "name",
        /reserved/,
      ],
    ];
    for (const [i, [body, field, message]] of cases.entries()) {
      const res = await POST(jsonRequest("/api/signup", "POST", body, { ip: `10.0.6.${i}` }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: expect.stringMatching(message), field });
    }
    expect(
      await env.db.user.count({
        where: { OR: [{ email: "reserved-names@example.com" }, { email: { contains: ".invalid" } }] },
      }),
    ).toBe(0);
    // an ordinary name that merely contains the word is fine
    const ok = await POST(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Eve of the atelier", email: "reserved-names@example.com", password: "brushes&oil9" },
        { ip: "10.0.6.9" },
      ),
    );
    expect(ok.status).toBe(201);
  });

  it("rate-limits sign-up attempts per client address", async () => {
    const { POST } = await import("@/app/api/signup/route");
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await POST(
        jsonRequest(
          "/api/signup",
          "POST",
          { name: "Cy", email: `cy${i}@example.com`, password: "brushes&oil9" },
          { ip: "10.0.0.9" },
        ),
      );
      statuses.push(res.status);
      if (res.status === 429) {
        expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
        expect((await res.json()).error).toMatch(/too many sign-up attempts/);
      }
    }
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    expect(await env.db.user.count({ where: { email: "cy4@example.com" } })).toBe(0);
    // another address is not affected
    const other = await POST(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Cy", email: "cy-other@example.com", password: "brushes&oil9" },
        { ip: "10.0.0.10" },
      ),
    );
    expect(other.status).toBe(201);
  });
});

/** Signs in through next-auth's real credentials callback, as the browser's signIn() does. */
async function credentialsSignIn(email: string, password: string, ip: string, callbackUrl = `${BASE}/dashboard`) {
  const { GET, POST } = await import("@/app/api/auth/[...nextauth]/route");
  const csrfRes = await GET(request("/api/auth/csrf", { ip }) as never);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const csrfCookie = csrfRes.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const res = await POST(
    request("/api/auth/callback/credentials", {
      method: "POST",
      ip,
      cookie: csrfCookie,
      headers: { "content-type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
      body: new URLSearchParams({ email, password, csrfToken, callbackUrl }),
    }) as never,
  );
  const { url } = (await res.json()) as { url: string };
  const session = res.headers.getSetCookie().find((c) => c.startsWith("authjs.session-token="));
  return { url: new URL(url), sessionCookie: session?.split(";")[0] ?? null };
}

describe("sign-in with email and password (next-auth credentials)", () => {
  it("signs in with the right password and issues a session the app accepts", async () => {
    const { POST: signup } = await import("@/app/api/signup/route");
    await signup(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Dee", email: "dee@example.com", password: "palette-knife4" },
        { ip: "10.1.0.1" },
      ),
    );
    const ok = await credentialsSignIn("DEE@example.com", "palette-knife4", "10.1.0.1");
    expect(ok.url.searchParams.get("error")).toBeNull();
    expect(ok.sessionCookie).toBeTruthy();
    const { GET } = await import("@/app/api/realtime-token/route");
    const res = await GET(request("/api/realtime-token", { cookie: ok.sessionCookie! }));
    expect(res.status).toBe(200);
  });

  it("answers a wrong password with invalid_credentials; 5 failures lock that address out of the account, not its owner", async () => {
    const { POST: signup } = await import("@/app/api/signup/route");
    await signup(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Eve", email: "eve@example.com", password: "charcoal-stick8" },
        { ip: "10.2.0.1" },
      ),
    );
    const codes: Array<string | null> = [];
    for (let i = 0; i < 5; i++) {
      const r = await credentialsSignIn("eve@example.com", "wrong-password1", "10.2.0.10");
      expect(r.sessionCookie).toBeNull();
      codes.push(r.url.searchParams.get("code"));
    }
    expect(codes).toEqual(Array(5).fill("invalid_credentials"));
    // from the guessing address even the right password is refused until the window frees up
    const locked = await credentialsSignIn("eve@example.com", "charcoal-stick8", "10.2.0.10");
    expect(locked.url.searchParams.get("error")).toBe("CredentialsSignin");
    expect(locked.url.searchParams.get("code")).toBe("rate_limited");
    expect(locked.sessionCookie).toBeNull();
    // the owner, from their own address, is not locked out
    const owner = await credentialsSignIn("eve@example.com", "charcoal-stick8", "10.2.0.99");
    expect(owner.sessionCookie).toBeTruthy();
    expect(await env.db.loginAttempt.count({ where: { key: "signin-account-ip:10.2.0.10|eve@example.com" } })).toBe(5);
  });

  it("unknown emails fail like wrong passwords", async () => {
    const r = await credentialsSignIn("nobody@example.com", "whatever-pass1", "10.3.0.1");
    expect(r.url.searchParams.get("code")).toBe("invalid_credentials");
  });
});

describe("GET /api/realtime-token", () => {
  it("is 401 without a session, or with a forged / foreign-secret cookie", async () => {
    const { GET } = await import("@/app/api/realtime-token/route");
    expect((await GET(request("/api/realtime-token"))).status).toBe(401);
    expect((await GET(request("/api/realtime-token", { cookie: "authjs.session-token=forged" }))).status).toBe(401);
    const user = await createUser(env.db, "Fay");
    const real = process.env.AUTH_SECRET;
    process.env.AUTH_SECRET = "x".repeat(43);
    const foreign = await sessionCookie(user);
    process.env.AUTH_SECRET = real;
    expect((await GET(request("/api/realtime-token", { cookie: foreign }))).status).toBe(401);
  });

  it("is 401 for a deleted user's session", async () => {
    const { GET } = await import("@/app/api/realtime-token/route");
    const user = await createUser(env.db, "Gil");
    const cookie = await sessionCookie(user);
    await env.db.user.delete({ where: { id: user.id } });
    expect((await GET(request("/api/realtime-token", { cookie }))).status).toBe(401);
  });

  it("mints a token the optimisation service verifies, with its public URL", async () => {
    const { GET } = await import("@/app/api/realtime-token/route");
    const user = await createUser(env.db, "Hal");
    const res = await GET(request("/api/realtime-token", { cookie: await sessionCookie(user) }));
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await res.json();
    expect(body.url).toBe("http://optimizer.test:4001");
    const verified = verifyRealtimeToken(body.token, process.env.ATELIER_REALTIME_SECRET!);
    expect(verified).toEqual({ ok: true, payload: { sub: user.id, name: "Hal", gen: 0, exp: body.expiresAt } });
    expect(verifyRealtimeToken(body.token, "another-secret").ok).toBe(false);
  });
});

describe("OAuth providers", () => {
  it("are switched on by their env vars only", async () => {
    const { GET } = await import("@/app/api/auth/[...nextauth]/route");
    const providers = async () =>
      Object.keys((await (await GET(request("/api/auth/providers") as never)).json()) as object).sort();
    expect(await providers()).toEqual(["credentials"]);
    process.env.AUTH_GITHUB_ID = "gh-id";
    process.env.AUTH_GITHUB_SECRET = "gh-secret";
    process.env.AUTH_GOOGLE_ID = "google-id"; // no secret: stays off
    try {
      expect(await providers()).toEqual(["credentials", "github"]);
    } finally {
      delete process.env.AUTH_GITHUB_ID;
      delete process.env.AUTH_GITHUB_SECRET;
      delete process.env.AUTH_GOOGLE_ID;
    }
  });
});

describe("return paths after sign-in", () => {
  it("only allow same-site paths", async () => {
    const { safeReturnPath } = await import("@/lib/safe-redirect");
    expect(safeReturnPath("/rooms/abc?x=1")).toBe("/rooms/abc?x=1");
    expect(safeReturnPath("/invite/tok")).toBe("/invite/tok");
    expect(safeReturnPath("/rooms/a%20b#top")).toBe("/rooms/a%20b#top");
    expect(safeReturnPath("/a/../rooms/x")).toBe("/rooms/x");
    for (const bad of REDIRECT_VECTORS) expect([bad, safeReturnPath(bad)]).toEqual([bad, "/dashboard"]);
  });

  it("isSameOriginPath compares the origin the browser would resolve", async () => {
    const { isSameOriginPath } = await import("@/lib/safe-redirect");
    expect(isSameOriginPath("/x", "https://atelier.example")).toBe(true);
    expect(isSameOriginPath("/\t/evil.example", "https://atelier.example")).toBe(false);
    expect(isSameOriginPath("https://atelier.example/x", "https://atelier.example")).toBe(false);
  });

  it("next-auth's redirect after a credentials sign-in never leaves the site", async () => {
    const { POST: signup } = await import("@/app/api/signup/route");
    await signup(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Ivy", email: "ivy@example.com", password: "gouache-pot5" },
        { ip: "10.4.0.1" },
      ),
    );
    for (const bad of ["/\t/evil.example/phish", "https://evil.example/x", "//evil.example", "/\\evil.example"]) {
      const r = await credentialsSignIn("ivy@example.com", "gouache-pot5", "10.4.0.1", bad);
      expect([bad, r.url.origin, r.url.pathname]).toEqual([bad, BASE, "/dashboard"]);
    }
    const ok = await credentialsSignIn("ivy@example.com", "gouache-pot5", "10.4.0.1", "/rooms/r1?tab=2");
    expect(ok.url.href).toBe(`${BASE}/rooms/r1?tab=2`);
  });
});

/** Open-redirect vectors: every one must fall back. */
const REDIRECT_VECTORS: unknown[] = [
  "https://evil.example/",
  "//evil.example",
  "/\\evil.example",
  "\\/evil.example",
  "/\t/evil.example/phish",
  "/\t\t/evil.example",
  "/\n/evil.example",
  "/%09/evil.example/phish",
  "/%0a/evil.example",
  "/rooms/x\nSet-Cookie: a=b",
  "/rooms/x\r\nLocation: //evil.example",
  "/rooms/\u0000x",
  "/rooms/\u0085x",
  " //evil.example",
  "javascript:alert(1)",
  "/api/auth/signout",
  "/api/auth",
  "",
  "/" + "a".repeat(3000),
  undefined,
  null,
  42,
  ["/x"],
];

describe("sign-out ends the session", () => {
  async function signOutWith(cookie: string) {
    const { GET, POST } = await import("@/app/api/auth/[...nextauth]/route");
    const csrfRes = await GET(request("/api/auth/csrf", { cookie }) as never);
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const csrfCookie = csrfRes.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    return POST(
      request("/api/auth/signout", {
        method: "POST",
        cookie: `${cookie}; ${csrfCookie}`,
        headers: { "content-type": "application/x-www-form-urlencoded", "X-Auth-Return-Redirect": "1" },
        body: new URLSearchParams({ csrfToken, callbackUrl: `${BASE}/` }),
      }) as never,
    );
  }

  it("a copied session cookie mints no realtime token (nor opens a private image) after sign-out", async () => {
    const { POST: signup } = await import("@/app/api/signup/route");
    await signup(
      jsonRequest(
        "/api/signup",
        "POST",
        { name: "Jo", email: "jo@example.com", password: "sepia-wash7" },
        { ip: "10.5.0.1" },
      ),
    );
    const first = await credentialsSignIn("jo@example.com", "sepia-wash7", "10.5.0.1");
    const second = await credentialsSignIn("jo@example.com", "sepia-wash7", "10.5.0.2"); // another device
    const copied = first.sessionCookie!;
    const { GET } = await import("@/app/api/realtime-token/route");
    expect((await GET(request("/api/realtime-token", { cookie: copied }))).status).toBe(200);

    const out = await signOutWith(copied);
    expect(out.status).toBe(200);
    expect((await GET(request("/api/realtime-token", { cookie: copied }))).status).toBe(401);
    // sign-out ends every session of the account
    expect((await GET(request("/api/realtime-token", { cookie: second.sessionCookie! }))).status).toBe(401);
    // signing in again gives a working session
    const again = await credentialsSignIn("jo@example.com", "sepia-wash7", "10.5.0.1");
    expect((await GET(request("/api/realtime-token", { cookie: again.sessionCookie! }))).status).toBe(200);
    expect((await GET(request("/api/realtime-token", { cookie: copied }))).status).toBe(401);
  });

  it("sign-out bumps the session generation realtime tokens carry and tells the optimiser (issue 26, item 9)", async () => {
    // what reaches the optimiser's /internal/session: recorded off the wire on a real HTTP server
    const received: { path: string; authorization: string }[] = [];
    const listener = createServer((req, res) => {
      received.push({ path: req.url ?? "", authorization: req.headers.authorization ?? "" });
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true,"sockets":0}');
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    process.env.ATELIER_OPTIMIZER_INTERNAL_URL = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    try {
      const { POST: signup } = await import("@/app/api/signup/route");
      await signup(
        jsonRequest(
          "/api/signup",
          "POST",
          { name: "Gen", email: "gen@example.com", password: "sepia-wash7" },
          { ip: "10.5.1.1" },
        ),
      );
      const { GET } = await import("@/app/api/realtime-token/route");
      const tokenGen = async (cookie: string) => {
        const body = (await (await GET(request("/api/realtime-token", { cookie }))).json()) as { token: string };
        const verified = verifyRealtimeToken(body.token, process.env.ATELIER_REALTIME_SECRET!);
        return verified.ok ? verified.payload.gen : null;
      };
      const first = await credentialsSignIn("gen@example.com", "sepia-wash7", "10.5.1.1");
      const user = await env.db.user.findUniqueOrThrow({ where: { email: "gen@example.com" } });
      expect(await tokenGen(first.sessionCookie!)).toBe(user.sessionGeneration);

      expect((await signOutWith(first.sessionCookie!)).status).toBe(200);
      const after = await env.db.user.findUniqueOrThrow({ where: { email: "gen@example.com" } });
      expect(after.sessionGeneration).toBe(user.sessionGeneration + 1);
      expect(received).toHaveLength(1);
      expect(received[0]!.path).toBe("/internal/session");
      const message = verifySessionEnded(
        received[0]!.authorization.replace(/^Bearer /, ""),
        process.env.ATELIER_REALTIME_SECRET!,
      );
      expect(message).toMatchObject({ ok: true, ended: { userId: user.id, generation: after.sessionGeneration } });
      // a new session's tokens carry the new generation
      const again = await credentialsSignIn("gen@example.com", "sepia-wash7", "10.5.1.1");
      expect(await tokenGen(again.sessionCookie!)).toBe(after.sessionGeneration);
    } finally {
      delete process.env.ATELIER_OPTIMIZER_INTERNAL_URL;
      listener.close();
    }
  });

  it("sessionVersionValid (pure)", async () => {
    const { sessionVersionValid } = await import("@/server/session");
    expect(sessionVersionValid(undefined, 0)).toBe(true); // cookies from before versions
    expect(sessionVersionValid(undefined, 1)).toBe(false);
    expect(sessionVersionValid(2, 2)).toBe(true);
    expect(sessionVersionValid(1, 2)).toBe(false);
    expect(sessionVersionValid("2", 2)).toBe(false);
  });
});
