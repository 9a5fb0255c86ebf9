/**
 * Wiring of client events: every payload is checked against its protocol schema before a
 * handler sees it, and every outcome becomes an ack — a result, or `{ok: false, code, error}`.
 * Also the one membership check every room action goes through.
 */
import { roleOf } from "@atelier/db";
import {
  canEdit,
  clientEvents,
  formatZodError,
  type Ack,
  type ClientEvent,
  type ClientPayload,
  type ClientReply,
  type Role,
} from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { metrics } from "../common/metrics.ts";
import { roomKey, type AtelierSocket, type GatewayContext } from "./context.ts";
import type { Presence } from "./presence.ts";
import type { LiveRoom } from "../rooms/live-room.ts";

/** Wires one client event: validates its payload, runs it, answers the ack with a result or a coded error. */
export function on<E extends ClientEvent>(
  ctx: Pick<GatewayContext, "log">,
  socket: AtelierSocket,
  event: E,
  run: (payload: ClientPayload<E>) => Promise<ClientReply<E> | void>,
): void {
  const { log } = ctx;
  (socket as unknown as { on(e: string, fn: (...args: unknown[]) => void): void }).on(
    event,
    // every failure below ends in an error ack, so nothing is left for the returned promise to report
    (...args: unknown[]) => void handle(...args),
  );
  async function handle(...args: unknown[]): Promise<void> {
    const last = args[args.length - 1];
    const ack = typeof last === "function" ? (last as (reply: Ack<Record<string, unknown>>) => void) : null;
    const raw = ack ? args.slice(0, -1)[0] : args[0];
    const reply = (r: Ack<Record<string, unknown>>) => {
      if (!r.ok) metrics.eventsRefused.inc({ event, reason: r.code });
      ack?.(r);
    };
    metrics.eventsIn.inc({ event });
    const parsed = clientEvents[event].input.safeParse(raw);
    if (!parsed.success) {
      log.info("event.invalid", { event, userId: socket.data.user.id, error: formatZodError(parsed.error) });
      return reply({ ok: false, code: "invalid", error: formatZodError(parsed.error) });
    }
    try {
      const result = await run(parsed.data as never);
      reply({ ok: true, ...(result ?? {}) });
    } catch (error) {
      if (error instanceof ServiceError) {
        log.info("event.refused", { event, userId: socket.data.user.id, code: error.code, error: error.message });
        return reply({ ok: false, code: error.code, error: error.message });
      }
      log.error("event.failed", { event, userId: socket.data.user.id, error });
      reply({ ok: false, code: "internal", error: "internal error" });
    }
  }
}

/** The member's current role, read again from the database: a revoked member loses rights at once. */
export async function requireMember(
  ctx: Pick<GatewayContext, "db" | "rooms">,
  presence: Presence,
  socket: AtelierSocket,
  roomId: string,
  needEdit: boolean,
): Promise<{ room: LiveRoom; role: Role }> {
  const membership = socket.data.rooms[roomId];
  if (!membership) throw new ServiceError("forbidden", "join the room first");
  const role = await roleOf(ctx.db, roomId, socket.data.user.id);
  if (!role) {
    delete socket.data.rooms[roomId];
    await socket.leave(roomKey(roomId));
    presence.schedule(roomId);
    throw new ServiceError("forbidden", "you are no longer a member of this room");
  }
  membership.role = role;
  if (needEdit && !canEdit(role)) throw new ServiceError("forbidden", `a ${role} cannot change this room`);
  const room = await ctx.rooms.load(roomId);
  if (!room) throw new ServiceError("not_found", "this room no longer exists");
  return { room, role };
}
