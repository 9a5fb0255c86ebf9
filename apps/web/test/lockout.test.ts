/*
 * Sign-in lockout: per (account, address) and per address, each with its window. Time is
 * injected (verifyCredentials' `now`), so windows are crossed without waiting.
 */
import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { limitDecision } from "@/server/rate-limit";
import { signInLimits, verifyCredentials } from "@/server/accounts";
import { rateLimits } from "@/server/config";
import { setupTestEnv, type TestEnv } from "./helpers";

const WINDOW = 15 * 60_000;

describe("limitDecision (pure)", () => {
  const limit = { max: 3, windowMs: 1000 };
  it("allows below the limit and refuses at it, until the oldest counted attempt leaves the window", () => {
    expect(limitDecision([], limit, 10_000)).toBeNull();
    expect(limitDecision([9_900, 9_800], limit, 10_000)).toBeNull();
    expect(limitDecision([9_900, 9_800, 9_500], limit, 10_000)).toEqual({ retryAfterSeconds: 1 });
    expect(limitDecision([9_900, 9_800, 9_500], limit, 10_500)).toBeNull();
    // attempts outside the window do not count
    expect(limitDecision([9_900, 9_800, 8_000, 7_000], limit, 10_000)).toBeNull();
  });

  it("signInLimits keys on (account, address) and on the address", () => {
    const limits = signInLimits("eve@example.com", "203.0.113.5", { ...rateLimits(), signInPerAccountAndIp: 5 });
    expect(limits.map((l) => [l.key, l.max])).toEqual([
      ["signin-account-ip:203.0.113.5|eve@example.com", 5],
      ["signin-ip:203.0.113.5", rateLimits().signInPerIp],
    ]);
  });
});

describe("verifyCredentials lockout (real database)", () => {
  let env: TestEnv;
  const t0 = Date.parse("2026-01-01T12:00:00Z");
  const PASSWORD = "oil-on-canvas3";

  beforeAll(async () => {
    env = await setupTestEnv();
    process.env.ATELIER_SIGNIN_LIMIT_PER_ACCOUNT = "3";
    process.env.ATELIER_SIGNIN_LIMIT_PER_IP = "4";
    const passwordHash = await bcrypt.hash(PASSWORD, 4);
    for (const name of ["owner", "a", "b", "c", "d", "e"])
      await env.db.user.create({ data: { name, email: `${name}@lock.test`, passwordHash } });
  });
  afterAll(async () => {
    delete process.env.ATELIER_SIGNIN_LIMIT_PER_ACCOUNT;
    delete process.env.ATELIER_SIGNIN_LIMIT_PER_IP;
    await env.cleanup();
  });

  const attempt = (email: string, password: string, ip: string, at: number) =>
    verifyCredentials(env.db, { email, password }, ip, at);

  it("failures from many addresses never lock the owner out of their own address", async () => {
    for (let i = 0; i < 20; i++) {
      const r = await attempt("owner@lock.test", "wrong-guess9", `198.51.100.${i}`, t0 + i);
      expect(r).toEqual({ ok: false, reason: "invalid_credentials" });
    }
    expect((await attempt("owner@lock.test", PASSWORD, "203.0.113.1", t0 + 100)).ok).toBe(true);
  });

  it("locks one address out of one account after the limit, for the window only", async () => {
    const ip = "192.0.2.10";
    for (let i = 0; i < 3; i++) expect((await attempt("a@lock.test", "nope-nope1", ip, t0 + i * 1000)).ok).toBe(false);
    const locked = await attempt("a@lock.test", PASSWORD, ip, t0 + 5000);
    expect(locked).toMatchObject({ ok: false, reason: "rate_limited" });
    // the retry time is what is left of the window since the oldest counted failure
    expect(locked.ok === false && locked.reason === "rate_limited" && locked.retryAfterSeconds).toBe(
      (WINDOW - 5000) / 1000,
    );
    // still locked just before the first failure leaves the window, free just after
    expect(await attempt("a@lock.test", PASSWORD, ip, t0 + WINDOW - 1)).toMatchObject({ reason: "rate_limited" });
    expect((await attempt("a@lock.test", PASSWORD, ip, t0 + WINDOW + 1)).ok).toBe(true);
  });

  it("limits one address across accounts (password spraying), for the window only", async () => {
    const ip = "192.0.2.77";
    const sprayed = ["b", "c", "d", "e"];
    for (const [i, name] of sprayed.entries())
      expect(await attempt(`${name}@lock.test`, "spray-1234", ip, t0 + i)).toEqual({
        ok: false,
        reason: "invalid_credentials",
      });
    // a fifth account from the same address: refused though it has no failures of its own
    expect(await attempt("owner@lock.test", PASSWORD, ip, t0 + 10)).toMatchObject({
      ok: false,
      reason: "rate_limited",
    });
    // another address is not affected
    expect((await attempt("owner@lock.test", PASSWORD, "192.0.2.78", t0 + 10)).ok).toBe(true);
    // after the window the address may try again
    expect((await attempt("owner@lock.test", PASSWORD, ip, t0 + WINDOW + 10)).ok).toBe(true);
  });
});
