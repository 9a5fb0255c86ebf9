/**
 * A member's role changed or they were removed (the web app says so): that user's sockets
 * follow at once — removed ones leave the room and are told so, changed ones get the room's
 * state with their new role — and everyone sees the new presence.
 */
import { roleOf } from "@atelier/db";
import { formatZodError, interNodeEventSchemas } from "@atelier/protocol";
import { roomKey, type GatewayContext } from "./context.ts";
import type { Presence } from "./presence.ts";
import { buildState, maybeEvict, type RoomViews } from "./room-handlers.ts";

/** Applies the change to this node's sockets; resolves how many sockets followed. */
export async function applyMembershipChange(
  ctx: GatewayContext,
  presence: Presence,
  views: RoomViews,
  roomId: string,
  userId: string,
): Promise<number> {
  const { io, db, log, rooms } = ctx;
  const role = await roleOf(db, roomId, userId);
  const room = rooms.get(roomId);
  let followed = 0;
  for (const socket of io.of("/").sockets.values()) {
    const membership = socket.data.rooms?.[roomId];
    if (socket.data.user?.id !== userId || !membership) continue;
    followed++;
    if (!role) {
      delete socket.data.rooms[roomId];
      await socket.leave(roomKey(roomId));
      socket.emit("room:error", { roomId, code: "forbidden", error: "the room's owner removed you from this room" });
    } else {
      membership.role = role;
      if (room) socket.emit("room:state", buildState(ctx, views, room, role, await presence.membersOf(roomId)));
    }
  }
  log.info("room.membership_changed", { roomId, userId, role, sockets: followed });
  presence.schedule(roomId);
  if (!role) void maybeEvict(ctx, roomId);
  return followed;
}

/**
 * A membership change reaches every gateway: applied here, announced to the other nodes, which
 * apply it to their sockets of that user. Resolves how many sockets followed, over all nodes.
 */
export function followMembershipEverywhere(
  ctx: GatewayContext,
  presence: Presence,
  views: RoomViews,
): (roomId: string, userId: string) => Promise<number> {
  const { cluster, io, log } = ctx;
  if (cluster) {
    io.on("atelier:membership", (p, ack) => {
      const parsed = interNodeEventSchemas["atelier:membership"].safeParse(p);
      if (!parsed.success) {
        log.warn("cluster.invalid_message", { event: "atelier:membership", error: formatZodError(parsed.error) });
        return ack(0);
      }
      applyMembershipChange(ctx, presence, views, parsed.data.roomId, parsed.data.userId).then(
        ack,
        (error: unknown) => {
          log.error("membership.failed", { error });
          ack(0);
        },
      );
    });
  }
  return async (roomId, userId) => {
    const [here, elsewhere] = await Promise.all([
      applyMembershipChange(ctx, presence, views, roomId, userId),
      cluster ? cluster.announceMembership(roomId, userId) : Promise.resolve(0),
    ]);
    return here + elsewhere;
  };
}
