/**
 * The handshake: a socket must carry a realtime token signed by the web app, of the user's
 * current session generation (a token minted before a sign-out is refused), and one user may
 * hold only so many sockets on a node. Every (re)connection reads the user's generation and,
 * for a recovered session (connection-state recovery restores its rooms), each room's role
 * again: a member removed or demoted during a short disconnect comes back without the room or
 * with the new role, never as they were.
 */
import { roleOf } from "@atelier/db";
import { colorOf, type ErrorCode } from "@atelier/protocol";
import { verifyRealtimeToken } from "@atelier/protocol/token";
import type { GatewayContext, RoomMembership, SocketData } from "./context.ts";
import { roomKey } from "./context.ts";
import { socketLimitRefusal } from "../common/limits.ts";
import { sessionVerdict } from "./session-check.ts";

function refusal(code: ErrorCode, message: string): Error {
  const error = new Error(`${code}: ${message}`) as Error & { data?: unknown };
  error.data = { code };
  return error;
}

export function installSocketAuth(ctx: Pick<GatewayContext, "io" | "db" | "log" | "secret" | "limits">): void {
  const { io, log, db } = ctx;
  io.use((socket, next) => {
    const verified = verifyRealtimeToken(socket.handshake.auth?.token, ctx.secret);
    if (!verified.ok) {
      log.info("auth.refused", { reason: verified.error, address: socket.handshake.address });
      return next(refusal("unauthorized", verified.error));
    }
    const user = { id: verified.payload.sub, name: verified.payload.name };
    let open = 0;
    for (const other of io.of("/").sockets.values())
      if (other.id !== socket.id && other.data.user?.id === user.id) open++;
    const overCap = socketLimitRefusal(open, ctx.limits);
    if (overCap) {
      log.warn("auth.socket_limit", { userId: user.id, open });
      return next(refusal("limit", overCap));
    }
    const restored = socket.data as Partial<SocketData> | undefined;
    void (async () => {
      const row = await db.user.findUnique({ where: { id: user.id }, select: { sessionGeneration: true } });
      const verdict = sessionVerdict(
        {
          tokenExpiresAt: verified.payload.exp * 1000,
          userExists: row !== null,
          tokenGeneration: verified.payload.gen,
          currentGeneration: row?.sessionGeneration ?? 0,
        },
        Date.now(),
      );
      if (!verdict.ok) {
        log.info("auth.refused", { reason: verdict.reason, userId: user.id });
        return next(refusal("unauthorized", verdict.reason));
      }
      // a recovered session keeps its rooms only for the same user, each with its role as it is now
      const rooms: Record<string, RoomMembership> = {};
      if (restored?.user?.id === user.id) {
        for (const [roomId, membership] of Object.entries(restored.rooms ?? {})) {
          const role = await roleOf(db, roomId, user.id);
          if (role) rooms[roomId] = { ...membership, role };
          else {
            await socket.leave(roomKey(roomId));
            log.info("auth.recovered_room_dropped", { roomId, userId: user.id });
          }
        }
      } else if (restored?.user) for (const room of socket.rooms) if (room !== socket.id) await socket.leave(room);
      socket.data = {
        user,
        color: colorOf(user.id),
        rooms,
        tokenExpiresAt: verified.payload.exp * 1000,
        generation: verified.payload.gen,
      };
      next();
    })().catch((error: unknown) => {
      log.error("auth.failed", { userId: user.id, error });
      next(refusal("internal", "the service could not check your session; try again"));
    });
  });
}
