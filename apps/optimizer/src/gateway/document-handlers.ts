/**
 * The co-edited room document: `doc:edit` (one field), `mask:edit` (one stroke of a style
 * region) and `history:restore` (a run's settings back, one co-edit per field). Each edit is
 * validated (field schema, caps, image access), applied by last-writer-wins, saved, broadcast
 * (also to other nodes), and followed by the running job where it can.
 */
import { imageIdsOfDocument } from "@atelier/db";
import {
  formatZodError,
  interNodeEventSchemas,
  parseFieldEdit,
  settingsDiff,
  type ClientPayload,
  type FieldEdit,
  type MaskDelta,
  type RoomField,
} from "@atelier/protocol";
import { canViewImage } from "@atelier/storage";
import type { FieldWrite, WriteOutcome } from "../rooms/document-store.ts";
import { ServiceError } from "../common/errors.ts";
import type { KeyedQueue } from "../common/keyed-queue.ts";
import { broadcastActivity, roomKey, type AtelierSocket, type GatewayContext } from "./context.ts";
import { fieldLimitRefusal } from "../common/limits.ts";
import type { User } from "../common/live-run.ts";
import { applyMaskEdit } from "../rooms/mask-edits.ts";
import type { Presence } from "./presence.ts";
import type { LiveRoom } from "../rooms/live-room.ts";
import { listRoomRuns, runCurveOf, runSettingsOf } from "../runs/history.ts";
import { on, requireMember } from "./socket-events.ts";

/** A conditional write found its field changed by someone else: recompute from the new value and write again. */
class FieldMovedOn extends Error {
  constructor(field: RoomField) {
    super(`${field} changed meanwhile`);
  }
}

/** how often a read-modify-write edit (a mask stroke) is recomputed when others keep changing its field */
const MAX_CONFLICT_RETRIES = 8;

export type EditOutcome = {
  version: number;
  restartNeeded: boolean;
};

/**
 * A field value from outside (a client's edit, a stored run's settings) checked against its
 * field's schema: the edit, typed by its field, or a clear error.
 */
export function fieldEditOf(field: RoomField, value: unknown): FieldEdit {
  const parsed = parseFieldEdit(field, value);
  if (!parsed.ok) throw new ServiceError("invalid", parsed.error);
  return parsed.edit;
}

/** One field edit by a member, checked against its field's schema (fieldEditOf; see createDocumentEditor). */
export type ApplyFieldEdit = (
  room: LiveRoom,
  user: User,
  edit: FieldEdit,
  baseVersion: number,
  /** a conditional write: only while the field is still at this version (see FieldWrite) */
  ifFieldVersion?: number,
  /** the change as the room's clients hear it (`mask:changed`), instead of the whole field */
  delta?: MaskDelta,
) => Promise<EditOutcome>;

/**
 * @param followEdit the running job follows the edit where it can; returns whether the field
 *   needs a restart to take effect
 */
export function createDocumentEditor(
  ctx: GatewayContext,
  followEdit: (room: LiveRoom, edit: FieldEdit, authorId: string) => boolean,
): ApplyFieldEdit {
  const { io, db, log, rooms, limits } = ctx;

  /**
   * Images named in an edit must be ones the editor may use. Only images the edit brings in
   * are checked: changing the weight of a style someone else added stays possible.
   */
  async function checkImageAccess(userId: string, room: LiveRoom, field: RoomField, value: unknown): Promise<void> {
    if (field !== "contentImageId" && field !== "styles") return;
    const before = new Set(imageIdsOfDocument(room.document));
    const after = imageIdsOfDocument({ ...room.document, [field]: value });
    for (const imageId of after) {
      if (before.has(imageId)) continue;
      if (!(await canViewImage(db, imageId, userId))) {
        throw new ServiceError("forbidden", `image ${imageId} does not exist or you may not use it`);
      }
    }
  }

  /** The store's verdict on one write; a document the store lost is seeded again, then written. */
  async function writeToStore(room: LiveRoom, write: FieldWrite): Promise<WriteOutcome> {
    const outcome = await rooms.store.write(room.id, write);
    if (outcome.status !== "missing") return outcome;
    await rooms.reseed(room);
    return rooms.store.write(room.id, write);
  }

  return async (room, user, edit, baseVersion, ifFieldVersion, delta) => {
    const roomId = room.id;
    const { field, value } = edit;
    const overCap = fieldLimitRefusal(field, value, limits);
    if (overCap) throw new ServiceError("limit", overCap);
    await checkImageAccess(user.id, room, field, value);
    const author = { userId: user.id, name: user.name };
    // image fields are saved before anyone hears of them (image access reads the saved document),
    // so the store does not announce those: this node does, after the save
    const imageField = field === "contentImageId" || field === "styles";
    // a delta is told by this node, not the store (which would send the whole field)
    const outcome = await writeToStore(room, {
      field,
      value,
      author,
      baseVersion,
      ifFieldVersion,
      announce: !imageField && !delta,
    });
    if (outcome.status === "conflict") throw new FieldMovedOn(field);
    if (outcome.status !== "applied")
      return { version: Math.max(room.version, outcome.version), restartNeeded: room.restartNeeded.includes(field) };
    const version = outcome.version;
    // false when a newer change of the field reached this node first: the job keeps that one
    const current = room.applyChange(field, value, version, author);
    if (baseVersion < version - 1) log.debug("doc.stale_edit_applied", { roomId, field, baseVersion, version });
    log.info("doc.edited", { roomId, userId: user.id, field, version });
    if (imageField) await rooms.saveNow(room);
    else if (rooms.store.durable) rooms.scheduleSave(room);
    else {
      // embedded: acknowledged (and shown to the others) only once the database has it
      await rooms.saved(room, version).catch((error: unknown) => {
        log.error("doc.save_before_ack_failed", { roomId, field, version, error });
        throw new ServiceError("internal", "your edit is applied but not saved yet (the database did not answer)");
      });
    }
    if (delta) io.to(roomKey(roomId)).emit("mask:changed", { roomId, delta, author, version });
    else if (!outcome.announced) io.to(roomKey(roomId)).emit("doc:changed", { roomId, field, value, author, version });
    if (!outcome.nodesTold)
      ctx.cluster?.emit("atelier:doc", {
        roomId,
        field,
        value,
        version,
        authorId: user.id,
        authorName: user.name,
      });
    const restartNeeded = current ? followEdit(room, edit, user.id) : room.restartNeeded.includes(field);
    return { version, restartNeeded };
  };
}

export function registerDocumentHandlers(
  ctx: GatewayContext,
  presence: Presence,
  applyFieldEdit: ApplyFieldEdit,
  /**
   * mask strokes of a room on this node, one at a time: each is computed from the layers the one
   * before left, so strokes sent through one gateway never collide with each other (only with
   * another gateway's, which the conditional write catches)
   */
  maskEdits: KeyedQueue,
  socket: AtelierSocket,
): void {
  const { db } = ctx;
  const user = socket.data.user;
  const member = (roomId: string, needEdit: boolean) => requireMember(ctx, presence, socket, roomId, needEdit);

  on(ctx, socket, "doc:edit", async ({ roomId, field, value, baseVersion }) => {
    const { room } = await member(roomId, true);
    // a whole-field write would drop strokes others are painting at the same moment
    if (field === "masks") throw new ServiceError("invalid", "masks are edited stroke by stroke (mask:edit)");
    return applyFieldEdit(room, user, fieldEditOf(field, value), baseVersion);
  });

  // one stroke / undo / clear, applied in arrival order and broadcast as its delta (`mask:changed`)
  // (the new layers are computed from this node's view: written only if no other gateway changed
  // `masks` meanwhile, else recomputed from the store's — so no stroke is lost to a race)
  on(ctx, socket, "mask:edit", async (edit) => {
    const { room } = await member(edit.roomId, true);
    return maskEdits.run(room.id, () => writeStroke(room, edit));
  });

  async function writeStroke(room: LiveRoom, edit: ClientPayload<"mask:edit">): Promise<EditOutcome> {
    for (let attempt = 0; ; attempt++) {
      const styleIds = room.document.styles.map((s) => s.imageId);
      const outcome = applyMaskEdit(room.document.masks, edit, user.id, styleIds);
      if (!outcome.ok) throw new ServiceError(outcome.limit ? "limit" : "invalid", outcome.error);
      try {
        const fieldVersion = room.fieldVersions.masks ?? 0;
        // the stroke was checked on the way in and the layers it joins were valid: parsing the
        // whole layer set again on every stroke would cost the document's size per stroke
        const edit: FieldEdit = { field: "masks", value: outcome.masks };
        return await applyFieldEdit(room, user, edit, room.version, fieldVersion, outcome.delta);
      } catch (error) {
        if (!(error instanceof FieldMovedOn)) throw error;
        if (attempt >= MAX_CONFLICT_RETRIES)
          throw new ServiceError("conflict", "the style regions keep changing: try again");
        await ctx.rooms.refresh(room);
        // another gateway won this round: a random pause, so the two do not keep colliding
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * (attempt + 1)));
      }
    }
  }

  on(ctx, socket, "history:list", async ({ roomId }) => {
    const { room } = await member(roomId, false);
    return { runs: await listRoomRuns(db, room) };
  });

  on(ctx, socket, "history:curve", async ({ roomId, runId }) => {
    const { room } = await member(roomId, false);
    return { history: await runCurveOf(db, room, runId) };
  });

  // a run's settings back into the document: one ordinary co-edit per field that differs
  on(ctx, socket, "history:restore", async ({ roomId, runId }) => {
    const { room } = await member(roomId, true);
    await ctx.rooms.catchUp(room);
    const params = await runSettingsOf(db, roomId, runId);
    for (const change of settingsDiff(room.document, params)) {
      await applyFieldEdit(room, user, fieldEditOf(change.field, change.after), room.version);
    }
    broadcastActivity(ctx, room.id, user, "restored-settings", runId);
    return { version: room.version };
  });
}

/**
 * Cluster mode: every edit the store accepted reaches this node's copy of the room, and its job
 * (this node's own too: the Redis store puts the event on the adapter's stream for every node;
 * one this node applied already is stale and changes nothing).
 */
export function installRemoteEdits(
  ctx: GatewayContext,
  followEdit: (room: LiveRoom, edit: FieldEdit, authorId: string) => boolean,
): void {
  ctx.io.on("atelier:doc", (p) => {
    const parsed = interNodeEventSchemas["atelier:doc"].safeParse(p);
    if (!parsed.success) {
      ctx.log.warn("cluster.invalid_message", { event: "atelier:doc", error: formatZodError(parsed.error) });
      return;
    }
    const { roomId, edit, version, authorId, authorName } = parsed.data;
    const room = ctx.rooms.get(roomId);
    if (!room) return;
    const author = { userId: authorId, name: authorName };
    // the room's job follows the edit (unless a newer one is here already): a job of this node
    // directly; a cluster worker's through its control channel, from every gateway that applied
    // it — each in version order, so whichever gateway's message comes last, it is the newest
    // value (the worker ignores repeats)
    if (room.applyChange(edit.field, edit.value, version, author)) followEdit(room, edit, authorId);
  });
}
