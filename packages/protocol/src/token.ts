import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

/**
 * The short-lived realtime token: the web app signs it for a signed-in user, the optimisation
 * service verifies it on the Socket.IO handshake (`auth: { token }`). Format:
 * base64url(JSON payload) + "." + base64url(HMAC-SHA256(payload, secret)).
 * Node-only (node:crypto): import it from "@atelier/protocol/token", never in browser code.
 */
export const realtimeTokenPayload = z.object({
  sub: z.string().min(1),
  name: z.string(),
  /**
   * the user's session generation (User.sessionGeneration) when the token was minted: signing
   * out bumps it, and the optimiser drops every socket whose token carries an older one at once.
   * Tokens minted before generations existed have none and count as generation 0.
   */
  gen: z.number().int().min(0).default(0),
  /** expiry, seconds since the epoch */
  exp: z.number().int(),
});
export type RealtimeTokenPayload = z.infer<typeof realtimeTokenPayload>;

export const DEFAULT_TOKEN_TTL_SECONDS = 10 * 60;

/**
 * Used by both ends only outside production when ATELIER_REALTIME_SECRET is unset. It is
 * public, so a token signed with it proves nothing: both sides warn or refuse in production.
 */
export const DEV_REALTIME_SECRET = "atelier-dev-realtime-secret-not-for-production";

/**
 * The one rule for the shared secret, used by the web app and the optimisation service alike:
 * ATELIER_REALTIME_SECRET if set; refused in production when unset; else the public
 * development secret (`development: true`, so the caller can warn).
 */
export function resolveRealtimeSecret(env: { ATELIER_REALTIME_SECRET?: string; NODE_ENV?: string }): {
  secret: string;
  development: boolean;
} {
  const configured = env.ATELIER_REALTIME_SECRET?.trim();
  if (configured) return { secret: configured, development: false };
  if (env.NODE_ENV === "production") {
    throw new Error("ATELIER_REALTIME_SECRET must be set in production (the web app and the optimiser share it)");
  }
  return { secret: DEV_REALTIME_SECRET, development: true };
}

function sign(data: string, secret: string): string {
  return createHmac("sha256", secret).update(data).digest("base64url");
}

export function signRealtimeToken(
  /** `generation`: the user's User.sessionGeneration now (0 when omitted) */
  user: { id: string; name: string; generation?: number },
  secret: string,
  ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS,
  now = Date.now(),
): string {
  if (!secret) throw new Error("realtime token secret is empty");
  const payload: RealtimeTokenPayload = {
    sub: user.id,
    name: user.name,
    gen: user.generation ?? 0,
    exp: Math.floor(now / 1000) + ttlSeconds,
  };
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${sign(body, secret)}`;
}

export type VerifyResult = { ok: true; payload: RealtimeTokenPayload } | { ok: false; error: string };

export function verifyRealtimeToken(token: unknown, secret: string, now = Date.now()): VerifyResult {
  if (typeof token !== "string" || token.length === 0) return { ok: false, error: "no token" };
  const parts = token.split(".");
  if (parts.length !== 2) return { ok: false, error: "malformed token" };
  const [body, sig] = parts as [string, string];
  const expected = Buffer.from(sign(body, secret));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, error: "bad token signature" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, error: "malformed token" };
  }
  const parsed = realtimeTokenPayload.safeParse(json);
  if (!parsed.success) return { ok: false, error: "malformed token" };
  if (parsed.data.exp * 1000 <= now) return { ok: false, error: "token expired" };
  return { ok: true, payload: parsed.data };
}

/**
 * Messages from the web app to the optimisation service (same format and secret as realtime
 * tokens, but a payload no user token can pass for): a room's membership changed, so the
 * service re-reads that member's role and its open sockets follow at once.
 */
export const membershipChange = z.object({
  kind: z.literal("membership"),
  roomId: z.string().min(1),
  userId: z.string().min(1),
  exp: z.number().int(),
});
export type MembershipChange = z.infer<typeof membershipChange>;

export const SERVICE_MESSAGE_TTL_SECONDS = 60;

/**
 * The user signed out (the web app says so after bumping User.sessionGeneration to
 * `generation`): every socket of theirs whose token carries an older generation is dropped at
 * once, on every gateway (the realtime token alone would live up to its 10 minutes).
 */
export const sessionEnded = z.object({
  kind: z.literal("session"),
  userId: z.string().min(1),
  generation: z.number().int().min(0),
  exp: z.number().int(),
});
export type SessionEnded = z.infer<typeof sessionEnded>;

function signMessage(payload: object, secret: string): string {
  if (!secret) throw new Error("service message secret is empty");
  const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
  return `${body}.${sign(body, secret)}`;
}

/** A signed service message's payload, checked with its schema and expiry. */
function verifyMessage<T extends { exp: number }>(
  token: unknown,
  secret: string,
  schema: z.ZodType<T>,
  now: number,
): { ok: true; payload: T } | { ok: false; error: string } {
  if (typeof token !== "string" || token.length === 0 || token.length > 4096) return { ok: false, error: "no message" };
  const parts = token.split(".");
  if (parts.length !== 2) return { ok: false, error: "malformed message" };
  const [body, sig] = parts as [string, string];
  const expected = Buffer.from(sign(body, secret));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, error: "bad message signature" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, error: "malformed message" };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, error: "malformed message" };
  if (parsed.data.exp * 1000 <= now) return { ok: false, error: "message expired" };
  return { ok: true, payload: parsed.data };
}

export function signMembershipChange(
  change: { roomId: string; userId: string },
  secret: string,
  now = Date.now(),
): string {
  const payload: MembershipChange = {
    kind: "membership",
    roomId: change.roomId,
    userId: change.userId,
    exp: Math.floor(now / 1000) + SERVICE_MESSAGE_TTL_SECONDS,
  };
  return signMessage(payload, secret);
}

export function verifyMembershipChange(
  token: unknown,
  secret: string,
  now = Date.now(),
): { ok: true; change: MembershipChange } | { ok: false; error: string } {
  const verified = verifyMessage(token, secret, membershipChange, now);
  return verified.ok ? { ok: true, change: verified.payload } : verified;
}

export function signSessionEnded(
  ended: { userId: string; generation: number },
  secret: string,
  now = Date.now(),
): string {
  const payload: SessionEnded = {
    kind: "session",
    userId: ended.userId,
    generation: ended.generation,
    exp: Math.floor(now / 1000) + SERVICE_MESSAGE_TTL_SECONDS,
  };
  return signMessage(payload, secret);
}

export function verifySessionEnded(
  token: unknown,
  secret: string,
  now = Date.now(),
): { ok: true; ended: SessionEnded } | { ok: false; error: string } {
  const verified = verifyMessage(token, secret, sessionEnded, now);
  return verified.ok ? { ok: true, ended: verified.payload } : verified;
}
