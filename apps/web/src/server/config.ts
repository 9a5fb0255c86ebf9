import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { resolveDataDir } from "@atelier/db";
import { DEV_REALTIME_SECRET } from "@atelier/protocol/token";
import { parseTrustedProxies, type TrustedProxies } from "./client-address";

/*
 * Server settings, read at request time (never at module load: `next build` imports the routes
 * without any of this configured), so one build serves any deployment.
 */

let cachedAuthSecret: string | null = null;

/**
 * AUTH_SECRET, or one generated once and kept in DATA_DIR/secrets.json (the same file
 * `npm start` keeps its secrets in), so sessions survive restarts without any setup.
 */
export function authSecret(): string {
  const configured = process.env.AUTH_SECRET?.trim();
  if (configured) return configured;
  if (cachedAuthSecret) return cachedAuthSecret;
  const file = path.join(resolveDataDir(), "secrets.json");
  let secrets: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      secrets = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
      throw new Error(`${file} is not valid JSON; fix or remove it, or set AUTH_SECRET`);
    }
  }
  if (typeof secrets.authSecret !== "string" || secrets.authSecret.length < 32) {
    secrets.authSecret = randomBytes(32).toString("base64url");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
    console.warn(`[atelier] AUTH_SECRET is not set: generated one and stored it in ${file}`);
  }
  cachedAuthSecret = secrets.authSecret as string;
  return cachedAuthSecret;
}

/** The secret realtime tokens are signed with (shared with the optimisation service). */
export function realtimeSecret(): string {
  const configured = process.env.ATELIER_REALTIME_SECRET?.trim();
  if (configured) return configured;
  if (process.env.NODE_ENV === "production") {
    throw new Error(
      "ATELIER_REALTIME_SECRET must be set in production (the optimisation service verifies tokens with it)",
    );
  }
  return DEV_REALTIME_SECRET;
}

/** The optimisation service's URL as the browser reaches it. */
export function optimizerPublicUrl(): string {
  return (process.env.ATELIER_OPTIMIZER_URL?.trim() || "http://localhost:4001").replace(/\/+$/, "");
}

/** Which OAuth providers are configured (their client id and secret are both set). */
export function oauthProvidersConfigured(): { github: boolean; google: boolean } {
  const set = (name: string) => Boolean(process.env[name]?.trim());
  return {
    github: set("AUTH_GITHUB_ID") && set("AUTH_GITHUB_SECRET"),
    google: set("AUTH_GOOGLE_ID") && set("AUTH_GOOGLE_SECRET"),
  };
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  const value = raw ? Number(raw) : NaN;
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Attempt limits; env overrides exist for shared-IP setups (classrooms, test rigs). */
export function rateLimits() {
  return {
    /** failed sign-ins per (account email, client address) per window */
    signInPerAccountAndIp: intFromEnv(
      "ATELIER_SIGNIN_LIMIT_PER_ACCOUNT",
      intFromEnv("ATELIER_SIGNIN_LIMIT_PER_EMAIL", 5),
    ),
    /** failed sign-ins per client address per window */
    signInPerIp: intFromEnv("ATELIER_SIGNIN_LIMIT_PER_IP", 30),
    signInWindowMs: 15 * 60_000,
    /** sign-up attempts per client address per window */
    signUpPerIp: intFromEnv("ATELIER_SIGNUP_LIMIT_PER_IP", 20),
    signUpWindowMs: 60 * 60_000,
  };
}

/**
 * The proxies in front of the web app whose X-Forwarded-For entries are believed
 * (ATELIER_TRUSTED_PROXIES: a hop count such as `1`, or proxy addresses `10.0.0.2,10.0.0.3`).
 * Unset: none, the TCP peer is the client.
 */
export function trustedProxies(): TrustedProxies {
  return parseTrustedProxies(process.env.ATELIER_TRUSTED_PROXIES);
}
