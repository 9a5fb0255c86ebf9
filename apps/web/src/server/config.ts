import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { resolveDataDir } from "@atelier/db";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS } from "@atelier/storage";
import { resolveRealtimeSecret } from "@atelier/protocol/token";

export {
  oauthProvidersConfigured,
  optimizerInternalUrl,
  optimizerUrlFor,
  publicOrigin,
  trustedProxies,
} from "./site-config";

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
  return resolveRealtimeSecret(process.env).secret;
}

/** Upload caps (bytes, pixels): the storage defaults, lowerable by env for small deployments. */
/** ATELIER_METRICS_TOKEN: the bearer token of GET /metrics (null: no /metrics); too short is refused. */
export function metricsToken(): string | null {
  const token = process.env.ATELIER_METRICS_TOKEN?.trim();
  if (!token) return null;
  if (token.length < 16) throw new Error("ATELIER_METRICS_TOKEN must be at least 16 characters");
  return token;
}

export function uploadLimits(): { maxBytes: number; maxPixels: number } {
  return {
    maxBytes: intFromEnv("ATELIER_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES),
    maxPixels: intFromEnv("ATELIER_UPLOAD_MAX_PIXELS", DEFAULT_MAX_PIXELS),
  };
}

/**
 * Per-account upload quotas: uploads (attempts, refused ones included: checking an image costs
 * work too) per hour, and the bytes of all the images a user uploaded. Defaults are generous for
 * a person and stop a script filling the disk.
 */
export function uploadQuotas(): { perHour: number; totalBytes: number } {
  return {
    perHour: intFromEnv("ATELIER_UPLOADS_PER_HOUR", 60),
    totalBytes: intFromEnv("ATELIER_UPLOAD_QUOTA_MB", 1000) * 1024 * 1024,
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
