import type { Db } from "@atelier/db";

/*
 * Attempt counting on the LoginAttempt table: one row per counted attempt, keyed e.g.
 * "signin-email:ann@example.com" or "signup-ip:203.0.113.9". Kept in the database (not in
 * memory) so the limit holds across restarts and several web processes.
 */

export interface Limit {
  key: string;
  max: number;
  windowMs: number;
}

/**
 * The decision for one limit (pure): given the times (ms) of the counted attempts, newest first,
 * whether it is exhausted at `now`, and the seconds until the oldest counted one leaves the window.
 */
export function limitDecision(
  recent: number[],
  limit: Pick<Limit, "max" | "windowMs">,
  now: number,
): { retryAfterSeconds: number } | null {
  const inWindow = recent.filter((t) => t > now - limit.windowMs).sort((a, b) => b - a);
  if (inWindow.length < limit.max) return null;
  const oldestCounted = inWindow[limit.max - 1]!;
  return { retryAfterSeconds: Math.max(1, Math.ceil((oldestCounted + limit.windowMs - now) / 1000)) };
}

/** The first limit that is exhausted, with the seconds until an attempt frees up; null if none. */
export async function exceededLimit(
  db: Db,
  limits: Limit[],
  now = Date.now(),
): Promise<{ key: string; retryAfterSeconds: number } | null> {
  for (const limit of limits) {
    const since = new Date(now - limit.windowMs);
    const recent = await db.loginAttempt.findMany({
      where: { key: limit.key, createdAt: { gt: since, lte: new Date(now) } },
      orderBy: { createdAt: "desc" },
      take: limit.max,
      select: { createdAt: true },
    });
    const decision = limitDecision(
      recent.map((r) => r.createdAt.getTime()),
      limit,
      now,
    );
    if (decision) return { key: limit.key, ...decision };
  }
  return null;
}

export async function recordAttempt(db: Db, keys: string[], now = Date.now()): Promise<void> {
  await db.loginAttempt.createMany({ data: keys.map((key) => ({ key, createdAt: new Date(now) })) });
  // Housekeeping, now and then: nothing older than a day is ever counted.
  if (Math.random() < 0.02) {
    await db.loginAttempt.deleteMany({ where: { createdAt: { lt: new Date(now - 24 * 3600_000) } } });
  }
}

export async function clearAttempts(db: Db, keys: string[]): Promise<void> {
  await db.loginAttempt.deleteMany({ where: { key: { in: keys } } });
}

export function minutesText(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return minutes <= 1 ? "a minute" : `${minutes} minutes`;
}
