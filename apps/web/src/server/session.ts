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

export async function sessionUserId(headers: Headers): Promise<string | null> {
  const cookie = headers.get("cookie");
  if (!cookie || !cookie.includes("authjs.session-token")) return null;
  // Only the cookie: a bare `Authorization: Bearer` token is not a browser session.
  const req = { headers: new Headers({ cookie }) };
  const secret = authSecret();
  for (const { name, secure } of SESSION_COOKIES) {
    if (!cookie.includes(name)) continue;
    const token = await getToken({ req, secret, secureCookie: secure, cookieName: name, salt: name });
    if (token?.sub) return token.sub;
  }
  return null;
}

export async function getSessionUser(headers: Headers, db?: Db): Promise<SessionUser | null> {
  const userId = await sessionUserId(headers);
  if (!userId) return null;
  const user = await (db ?? (await getDb())).user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, image: true },
  });
  if (!user) return null;
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
