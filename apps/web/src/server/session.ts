import { getToken } from "next-auth/jwt";
import { getDb, type Db } from "@atelier/db";
import { authSecret } from "./config";
import { unauthorized } from "./http";

/*
 * The one session check of the app. With JWT sessions a session is the encrypted `authjs`
 * session cookie that next-auth issued at sign-in: decrypting it with AUTH_SECRET (which also
 * checks its expiry) proves it. We then load the user, so a deleted account's cookie is worth
 * nothing. Pages pass `await headers()`, route handlers `request.headers`: the same code path,
 * which is also what the tests drive with a real cookie from next-auth's own `encode`.
 */

export interface SessionUser {
  id: string;
  name: string;
  email: string;
  image: string | null;
}

/** The cookie names next-auth uses: `__Secure-` prefixed over HTTPS, plain over HTTP. */
const SESSION_COOKIES = [
  { name: "__Secure-authjs.session-token", secure: true },
  { name: "authjs.session-token", secure: false },
] as const;

/** The claim in the session cookie: the user's session version when it was issued. */
export const SESSION_VERSION_CLAIM = "sv";

export async function currentSessionVersion(db: Db, userId: string): Promise<number> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { sessionVersion: true } });
  return user?.sessionVersion ?? 0;
}

/**
 * Ends every session of the user issued so far (sign-out, sign out everywhere): the cookie's
 * session version and the realtime tokens' session generation move on together. Returns the new
 * generation (null: no such user), for the optimiser to drop the sockets of older ones.
 */
export async function endAllSessions(db: Db, userId: string): Promise<number | null> {
  const updated = await db.user.updateMany({
    where: { id: userId },
    data: { sessionVersion: { increment: 1 }, sessionGeneration: { increment: 1 } },
  });
  if (updated.count === 0) return null;
  return (await currentSessionGeneration(db, userId)) ?? null;
}

/** The user's session generation now (realtime tokens carry it; null: no such user). */
export async function currentSessionGeneration(db: Db, userId: string): Promise<number | null> {
  const user = await db.user.findUnique({ where: { id: userId }, select: { sessionGeneration: true } });
  return user?.sessionGeneration ?? null;
}

/**
 * Whether a session issued at `issuedVersion` is still valid for a user now at `currentVersion`
 * (pure). Cookies from before session versions existed carry none and count as version 0.
 */
export function sessionVersionValid(issuedVersion: unknown, currentVersion: number): boolean {
  const issued = issuedVersion === undefined ? 0 : issuedVersion;
  return typeof issued === "number" && issued === currentVersion;
}

/** The decrypted session cookie's user id and session version, or null. */
async function sessionClaims(headers: Headers): Promise<{ userId: string; version: unknown } | null> {
  const cookie = headers.get("cookie");
  if (!cookie || !cookie.includes("authjs.session-token")) return null;
  // Only the cookie: a bare `Authorization: Bearer` token is not a browser session.
  const req = { headers: new Headers({ cookie }) };
  const secret = authSecret();
  for (const { name, secure } of SESSION_COOKIES) {
    if (!cookie.includes(name)) continue;
    const token = await getToken({ req, secret, secureCookie: secure, cookieName: name, salt: name });
    if (token?.sub) return { userId: token.sub, version: token[SESSION_VERSION_CLAIM] };
  }
  return null;
}

/**
 * The signed-in user, or null: the cookie must decrypt, the user must exist, and the cookie's
 * session version must be the user's current one (a signed-out session is worth nothing).
 */
export async function getSessionUser(headers: Headers, db?: Db): Promise<SessionUser | null> {
  const claims = await sessionClaims(headers);
  if (!claims) return null;
  const user = await (db ?? (await getDb())).user.findUnique({
    where: { id: claims.userId },
    select: { id: true, name: true, email: true, image: true, sessionVersion: true },
  });
  if (!user || !sessionVersionValid(claims.version, user.sessionVersion)) return null;
  return { id: user.id, name: displayName(user), email: user.email, image: user.image };
}

/** For route handlers: the database and the signed-in user, or the 401 reply to send. */
export async function requireUser(
  req: Request,
): Promise<{ ok: true; db: Db; user: SessionUser } | { ok: false; response: Response }> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  return user ? { ok: true, db, user } : { ok: false, response: unauthorized() };
}

export function displayName(user: { name: string | null; email: string }): string {
  return user.name?.trim() || user.email.split("@")[0]!;
}
