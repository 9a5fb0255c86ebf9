/**
 * Joining and leaving rooms, focus (who edits which field), and what a joiner gets: the room's
 * full state in the ack (once), then the latest preview and the sweep grid.
 */
import { roleOf } from "@atelier/db";
import type { Member, Role, RoomState, SpeedModel } from "@atelier/protocol";
import { ServiceError } from "../common/errors.ts";
import { roomKey, type AtelierSocket, type GatewayContext } from "./context.ts";
import { isActive, toRunInfo } from "../common/live-run.ts";
import type { Presence } from "./presence.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import { on } from "./socket-events.ts";
import type { Sweeps } from "../sweeps/sweep-manager.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

export interface RoomViews {
  /** the service's current speed figure, for the estimate the studio shows before Start */
  speed(): SpeedModel;
  sweeps: Pick<Sweeps, "snapshot">;
}

export function buildState(
  ctx: Pick<GatewayContext, "limits">,
  views: Pick<RoomViews, "speed">,
  room: LiveRoom,
  role: Role,
  members: Member[],
): RoomState {
  const run = room.run;
  return {
    roomId: room.id,
    name: room.name,
    role,
    document: room.document,
    version: room.version,
    members,
    run: run ? toRunInfo(run) : null,
    history: run ? room.history.filter((h) => h.runId === run.id) : [],
    restartNeeded: room.restartNeeded,
    fieldAuthors: room.fieldAuthors,
    limits: { maxSize: ctx.limits.maxSize, maxIterations: ctx.limits.maxIterations },
    speed: views.speed(),
  };
}

/** Frees a room's memory once nobody on this node is in it and it has no job here. */
export async function maybeEvict(ctx: Pick<GatewayContext, "io" | "rooms" | "log">, roomId: string): Promise<void> {
  const local = ctx.io.sockets.adapter.rooms.get(roomKey(roomId));
  if (local && local.size > 0) return;
  const room = ctx.rooms.get(roomId);
  if (!room || (room.run && room.run.local && isActive(room.run.status))) return;
  await ctx.rooms.evict(roomId).catch((error) => ctx.log.error("room.evict_failed", { roomId, error }));
}

export function registerRoomHandlers(
  ctx: GatewayContext,
  presence: Presence,
  views: RoomViews,
  socket: AtelierSocket,
): void {
  const { db, log, rooms, fanout } = ctx;
  const user = socket.data.user;

  on(ctx, socket, "room:join", async ({ roomId, protocol }) => {
    if (protocol !== PROTOCOL_VERSION)
      throw new ServiceError(
        "outdated",
        `this page is out of date (protocol ${protocol ?? 1}, the service speaks ${PROTOCOL_VERSION}): reload it to rejoin the room`,
      );
    const room = await rooms.load(roomId);
    if (!room) throw new ServiceError("not_found", "no such room");
    const role = await roleOf(db, roomId, user.id);
    if (!role) throw new ServiceError("forbidden", "you are not a member of this room");
    await socket.join(roomKey(roomId));
    socket.data.rooms[roomId] = { role, editingField: null, focusAt: 0 };
    await rooms.catchUp(room);
    const state = buildState(ctx, views, room, role, await presence.membersOf(roomId));
    // a sweep's grid is extra: a store that cannot answer now does not refuse the join
    const sweep = await views.sweeps.snapshot(roomId).catch((error: unknown) => {
      log.warn("sweep.snapshot_failed", { roomId, error });
      return null;
    });
    log.info("room.joined", { roomId, userId: user.id, role });
    // after the ack (which carries the state, once: the style regions alone may weigh
    // MAX_MASK_BYTES), the latest frame and the sweep grid
    setImmediate(() => {
      // the members again, small: connection-state recovery replays from the last event a
      // client heard (its offset), and an ack carries none
      socket.emit("presence", { roomId, members: state.members });
      const frame = room.latestPreview;
      if (frame && frame.runId === room.run?.id) fanout.deliverTo(socket, frame);
      if (sweep) socket.emit("sweep:update", { roomId, sweep: sweep.sweep });
      for (const sweepFrame of sweep?.frames ?? []) socket.emit("sweep:frame", sweepFrame);
      presence.schedule(roomId);
    });
    return { state };
  });

  on(ctx, socket, "room:leave", async ({ roomId }) => {
    if (!socket.data.rooms[roomId]) return;
    delete socket.data.rooms[roomId];
    await socket.leave(roomKey(roomId));
    log.info("room.left", { roomId, userId: user.id });
    presence.schedule(roomId);
    void maybeEvict(ctx, roomId);
  });

  // nothing to wait for: the broadcast is coalesced (a throw here still becomes an error ack)
  on(ctx, socket, "presence:focus", ({ roomId, field }) => {
    const membership = socket.data.rooms[roomId];
    if (!membership) throw new ServiceError("forbidden", "join the room first");
    membership.editingField = field;
    membership.focusAt = Date.now();
    presence.schedule(roomId);
    return Promise.resolve();
  });

  socket.on("disconnect", (reason) => {
    log.info("socket.disconnected", { socketId: socket.id, userId: user.id, reason });
    for (const roomId of Object.keys(socket.data.rooms)) {
      presence.schedule(roomId);
      void maybeEvict(ctx, roomId);
    }
  });
}
