import bcrypt from "bcryptjs";
import { isUniqueViolation, type Db } from "@atelier/db";
import { email as emailSchema, signUpBody } from "@atelier/protocol";
import { rateLimits } from "./config";
import { clearAttempts, exceededLimit, minutesText, recordAttempt, type Limit } from "./rate-limit";

const BCRYPT_ROUNDS = 10;
/** Compared against when the email is unknown, so both cases cost the same time. */
let dummyHash: string | null = null;
const timingEqualiserHash = () => (dummyHash ??= bcrypt.hashSync("atelier-timing-equaliser", BCRYPT_ROUNDS));

interface AccountUser {
  id: string;
  name: string;
  email: string;
}

export type SignUpOutcome =
  | { ok: true; user: AccountUser }
  | { ok: false; status: 400 | 409 | 429; error: string; field?: string; retryAfterSeconds?: number };

/** Creates an email + password account. Validation, taken emails and the per-address limit answer clearly. */
export async function signUp(db: Db, input: unknown, ip: string): Promise<SignUpOutcome> {
  const limits = rateLimits();
  const ipKey = `signup-ip:${ip}`;
  const over = await exceededLimit(db, [{ key: ipKey, max: limits.signUpPerIp, windowMs: limits.signUpWindowMs }]);
  if (over) {
    return {
      ok: false,
      status: 429,
      error: `too many sign-up attempts from your network; try again in ${minutesText(over.retryAfterSeconds)}`,
      retryAfterSeconds: over.retryAfterSeconds,
    };
  }
  await recordAttempt(db, [ipKey]);

  const parsed = signUpBody.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      ok: false,
      status: 400,
      error: issue.message,
      field: issue.path[0] === undefined ? undefined : String(issue.path[0]),
    };
  }
  const { name, email, password } = parsed.data;
  const taken = {
    ok: false as const,
    status: 409 as const,
    error: "an account with this email already exists — sign in instead",
    field: "email",
  };
  if (await db.user.findUnique({ where: { email }, select: { id: true } })) return taken;
  const passwordHash = await bcrypt.hash(password, BCRYPT_ROUNDS);
  try {
    const user = await db.user.create({
      data: { name, email, passwordHash },
      select: { id: true, name: true, email: true },
    });
    return { ok: true, user: { id: user.id, name: user.name ?? name, email: user.email } };
  } catch (error) {
    if (isUniqueViolation(error)) return taken; // a parallel sign-up with the same email won
    throw error;
  }
}

export type SignInOutcome =
  | { ok: true; user: AccountUser }
  | { ok: false; reason: "invalid_credentials" }
  | { ok: false; reason: "rate_limited"; retryAfterSeconds: number };

/**
 * The limits a sign-in attempt is checked against (pure). Failures count per (account, client
 * address) — so strangers guessing someone's password from their own addresses never lock the
 * owner out of theirs — and per client address across all accounts (one address spraying many
 * accounts).
 */
export function signInLimits(email: string, ip: string, limits = rateLimits()): Limit[] {
  return [
    { key: `signin-account-ip:${ip}|${email}`, max: limits.signInPerAccountAndIp, windowMs: limits.signInWindowMs },
    { key: `signin-ip:${ip}`, max: limits.signInPerIp, windowMs: limits.signInWindowMs },
  ];
}

/**
 * Checks an email + password. Past a limit no password is even checked until the window frees
 * up. Success clears the (account, address) count. `now` is injectable for tests.
 */
export async function verifyCredentials(
  db: Db,
  input: { email?: unknown; password?: unknown },
  ip: string,
  now = Date.now(),
): Promise<SignInOutcome> {
  const emailParsed = emailSchema.safeParse(input.email);
  const password = typeof input.password === "string" ? input.password : "";
  const normalisedEmail = emailParsed.success
    ? emailParsed.data
    : (typeof input.email === "string" ? input.email : "").trim().toLowerCase().slice(0, 254);
  const limits = signInLimits(normalisedEmail, ip);
  const over = await exceededLimit(db, limits, now);
  if (over) return { ok: false, reason: "rate_limited", retryAfterSeconds: over.retryAfterSeconds };

  const user = emailParsed.success
    ? await db.user.findUnique({
        where: { email: normalisedEmail },
        select: { id: true, name: true, email: true, passwordHash: true },
      })
    : null;
  const matches = await bcrypt.compare(password.slice(0, 200), user?.passwordHash ?? timingEqualiserHash());
  if (!user || !user.passwordHash || !matches) {
    await recordAttempt(
      db,
      limits.map((l) => l.key),
      now,
    );
    return { ok: false, reason: "invalid_credentials" };
  }
  await clearAttempts(db, [limits[0]!.key]);
  return { ok: true, user: { id: user.id, name: user.name ?? user.email.split("@")[0]!, email: user.email } };
}
