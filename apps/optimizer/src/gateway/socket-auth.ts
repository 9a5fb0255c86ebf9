/**
 * The handshake: a socket must carry a realtime token signed by the web app, and one user may
 * hold only so many sockets on a node. A recovered session (connection-state recovery) passes
 * here too, so its token is checked again; it keeps its rooms only for the same user.
 */
import { colorOf, type ErrorCode } from "@atelier/protocol";
import { verifyRealtimeToken } from "@atelier/protocol/token";
import type { GatewayContext, SocketData } from "./context.ts";
import { socketLimitRefusal } from "../common/limits.ts";

export function installSocketAuth(ctx: Pick<GatewayContext, "io" | "log" | "secret" | "limits">): void {
  const { io, log } = ctx;
  io.use((socket, next) => {
    const verified = verifyRealtimeToken(socket.handshake.auth?.token, ctx.secret);
    if (!verified.ok) {
      log.info("auth.refused", { reason: verified.error, address: socket.handshake.address });
      const error = new Error(`unauthorized: ${verified.error}`) as Error & { data?: unknown };
      error.data = { code: "unauthorized" satisfies ErrorCode };
      return next(error);
    }
    const user = { id: verified.payload.sub, name: verified.payload.name };
    let open = 0;
    for (const other of io.of("/").sockets.values())
      if (other.id !== socket.id && other.data.user?.id === user.id) open++;
    const overCap = socketLimitRefusal(open, ctx.limits);
    if (overCap) {
      log.warn("auth.socket_limit", { userId: user.id, open });
      const error = new Error(`limit: ${overCap}`) as Error & { data?: unknown };
      error.data = { code: "limit" satisfies ErrorCode };
      return next(error);
    }
    const restored = socket.data as Partial<SocketData> | undefined;
    // a recovered session keeps its rooms only for the same user
    const rooms = restored?.user?.id === user.id ? (restored.rooms ?? {}) : {};
    if (restored?.user && restored.user.id !== user.id)
      for (const room of socket.rooms) if (room !== socket.id) void socket.leave(room);
    socket.data = { user, color: colorOf(user.id), rooms, tokenExpiresAt: verified.payload.exp * 1000 };
    next();
  });
}
