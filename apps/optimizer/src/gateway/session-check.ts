/**
 * Long sessions: a socket's realtime token is checked again while the socket lives. A client
 * keeps its socket past the token's expiry by sending a fresh token (`auth:refresh`); a socket
 * whose token expired, or whose user no longer exists, is told why (`room:error`, code
 * `unauthorized`) and disconnected. The same pass reads every joined member's role again, which
 * catches a membership change whose announcement this node missed.
 */
import { roleOf } from "@atelier/db";
import { verifyRealtimeToken } from "@atelier/protocol/token";
import { ServiceError } from "../common/errors.ts";
import type { AtelierSocket, GatewayContext } from "./context.ts";
import { on } from "./socket-events.ts";

const DISCONNECT_AFTER_MS = 100;

/** What a socket's token check decides (pure: unit-tested). */
export function sessionVerdict(
  s: { tokenExpiresAt: number; userExists: boolean },
  now: number,
): { ok: true } | { ok: false; reason: string } {
  if (!s.userExists) return { ok: false, reason: "your account no longer exists" };
  if (s.tokenExpiresAt <= now) return { ok: false, reason: "your session expired: sign in again" };
  return { ok: true };
}

export function registerTokenRefresh(ctx: Pick<GatewayContext, "log" | "secret">, socket: AtelierSocket): void {
  on(ctx, socket, "auth:refresh", ({ token }) => {
    const verified = verifyRealtimeToken(token, ctx.secret);
    if (!verified.ok) throw new ServiceError("unauthorized", verified.error);
    // a socket belongs to one user: a token of someone else cannot take it over
    if (verified.payload.sub !== socket.data.user.id) throw new ServiceError("forbidden", "a token of another user");
    socket.data.tokenExpiresAt = verified.payload.exp * 1000;
    return Promise.resolve({ expiresAt: socket.data.tokenExpiresAt });
  });
}

/**
 * Starts the periodic check; returns the function that stops it.
 * @param followMembership applies a member's current role to their sockets on this node
 */
export function startSessionChecks(
  ctx: Pick<GatewayContext, "io" | "db" | "log">,
  everyMs: number,
  followMembership: (roomId: string, userId: string) => Promise<number>,
): () => void {
  let running = false;
  /** sockets told to go, until their disconnect lands: told once */
  const ending = new WeakSet<AtelierSocket>();
  const check = async () => {
    if (running) return; // a slow database: never two passes at once
    running = true;
    try {
      await checkSessions(ctx, ending, followMembership);
    } catch (error) {
      ctx.log.warn("session.check_failed", { error });
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

async function checkSessions(
  ctx: Pick<GatewayContext, "io" | "db" | "log">,
  ending: WeakSet<AtelierSocket>,
  followMembership: (roomId: string, userId: string) => Promise<number>,
): Promise<void> {
  const sockets = [...ctx.io.of("/").sockets.values()].filter((s) => s.data.user && !ending.has(s));
  if (sockets.length === 0) return;
  const userIds = [...new Set(sockets.map((s) => s.data.user.id))];
  const existing = new Set(
    (await ctx.db.user.findMany({ where: { id: { in: userIds } }, select: { id: true } })).map((u) => u.id),
  );
  const now = Date.now();
  const memberships = new Map<string, { roomId: string; userId: string; roles: Set<string> }>();
  for (const socket of sockets) {
    const user = socket.data.user;
    const verdict = sessionVerdict(
      { tokenExpiresAt: socket.data.tokenExpiresAt, userExists: existing.has(user.id) },
      now,
    );
    if (!verdict.ok) {
      ending.add(socket);
      ctx.log.info("session.ended", { socketId: socket.id, userId: user.id, reason: verdict.reason });
      socket.emit("room:error", { roomId: null, code: "unauthorized", error: verdict.reason });
      // once the message is written: a disconnect right away can overtake it (measured: it did)
      setTimeout(() => socket.disconnect(true), DISCONNECT_AFTER_MS).unref();
      continue;
    }
    for (const [roomId, membership] of Object.entries(socket.data.rooms)) {
      const key = `${roomId}\n${user.id}`;
      const entry = memberships.get(key) ?? { roomId, userId: user.id, roles: new Set<string>() };
      entry.roles.add(membership.role);
      memberships.set(key, entry);
    }
  }
  for (const { roomId, userId, roles } of memberships.values()) {
    const role = await roleOf(ctx.db, roomId, userId);
    if (roles.size !== 1 || !roles.has(role ?? "")) await followMembership(roomId, userId);
  }
}
