import { randomBytes } from "node:crypto";
import { readRunParams, roleOf, serializeRoomDocument, type Db } from "@atelier/db";
import { canEdit, defaultRoomDocument, roomDocument, type RoomDocument, type Role } from "@atelier/protocol";

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 403 | 404 | 409 | 410; error: string };

/** A new room owned by `ownerId` (also recorded as its "owner" member, so room lists are one query). */
export async function createRoom(
  db: Db,
  ownerId: string,
  name: string,
  document: RoomDocument = defaultRoomDocument(),
) {
  return db.room.create({
    data: {
      name,
      ownerId,
      document: serializeRoomDocument(document),
      members: { create: { userId: ownerId, role: "owner" } },
    },
    select: { id: true, name: true },
  });
}

/**
 * Deletes a room (owner only). Refused while results saved from it exist: the schema cascades
 * Run → Result, and a saved result (possibly another member's) must never disappear as a side effect.
 */
export async function deleteRoom(db: Db, roomId: string, userId: string): Promise<Outcome<null>> {
  const room = await db.room.findUnique({ where: { id: roomId }, select: { ownerId: true } });
  if (!room) return { ok: false, status: 404, error: "room not found" };
  if (room.ownerId !== userId) return { ok: false, status: 403, error: "only the room's owner can delete it" };
  const saved = await db.result.count({ where: { run: { roomId } } });
  if (saved > 0) {
    return {
      ok: false,
      status: 409,
      error: `this room has ${saved} saved result${saved === 1 ? "" : "s"}; deleting the room would delete ${saved === 1 ? "it" : "them"} too`,
    };
  }
  await db.room.delete({ where: { id: roomId } });
  return { ok: true, value: null };
}

const INVITE_TOKEN_BYTES = 24;

export async function createInvite(
  db: Db,
  roomId: string,
  userId: string,
  role: "editor" | "viewer",
  expiresInDays: number | null,
): Promise<Outcome<{ token: string; role: "editor" | "viewer"; expiresAt: Date | null }>> {
  const mine = await roleOf(db, roomId, userId);
  if (!mine) return { ok: false, status: 404, error: "room not found" };
  if (!canEdit(mine)) return { ok: false, status: 403, error: "viewers cannot invite others" };
  const token = randomBytes(INVITE_TOKEN_BYTES).toString("base64url");
  const expiresAt = expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 24 * 3600_000);
  await db.roomInvite.create({ data: { token, roomId, role, createdById: userId, expiresAt } });
  return { ok: true, value: { token, role, expiresAt } };
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, editor: 1, owner: 2 };

/**
 * Joins the room an invite points at. A member keeps a higher role than the invite's (an
 * editor opening a viewer link stays an editor); the owner stays owner.
 */
export async function acceptInvite(
  db: Db,
  token: string,
  userId: string,
): Promise<Outcome<{ roomId: string; role: Role }>> {
  const invite = await db.roomInvite.findUnique({
    where: { token },
    select: { roomId: true, role: true, expiresAt: true },
  });
  if (!invite)
    return {
      ok: false,
      status: 404,
      error: "this invite link is not valid (it may have been mistyped or the room deleted)",
    };
  if (invite.expiresAt && invite.expiresAt.getTime() <= Date.now()) {
    return { ok: false, status: 410, error: "this invite link has expired; ask for a new one" };
  }
  const inviteRole: Role = invite.role === "editor" ? "editor" : "viewer";
  const current = await roleOf(db, invite.roomId, userId);
  if (current && ROLE_RANK[current] >= ROLE_RANK[inviteRole])
    return { ok: true, value: { roomId: invite.roomId, role: current } };
  await db.roomMember.upsert({
    where: { roomId_userId: { roomId: invite.roomId, userId } },
    create: { roomId: invite.roomId, userId, role: inviteRole },
    update: { role: inviteRole },
  });
  return { ok: true, value: { roomId: invite.roomId, role: inviteRole } };
}

/** A new room of `userId`'s pre-filled with a result's content, styles and settings. */
export async function remixResult(
  db: Db,
  resultId: string,
  userId: string,
): Promise<Outcome<{ id: string; name: string }>> {
  const result = await db.result.findUnique({
    where: { id: resultId },
    select: { title: true, isPublic: true, authorId: true, run: { select: { params: true } } },
  });
  if (!result || (!result.isPublic && result.authorId !== userId))
    return { ok: false, status: 404, error: "result not found" };
  const params = readRunParams(result.run);
  if (!params)
    return { ok: false, status: 409, error: "this result's settings could not be read, so it cannot be remixed" };
  const document = roomDocument.parse(params);
  const room = await createRoom(db, userId, `Remix of ${result.title}`.slice(0, 80), document);
  return { ok: true, value: room };
}
