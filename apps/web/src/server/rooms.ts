import { randomBytes } from "node:crypto";
import {
  imageIdsOfDocument,
  isUniqueViolation,
  readRunParams,
  roleOf,
  serializeRoomDocument,
  type Db,
} from "@atelier/db";
import { canViewImage } from "@atelier/storage";
import { defaultRoomDocument, roomDocument, type InviteInfo, type RoomDocument, type Role } from "@atelier/protocol";

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

/**
 * Who may create which invite (pure): the owner any role; an editor viewer links only (an
 * editor cannot hand out editing rights); a viewer none. Null: allowed; else why not.
 */
export function inviteRefusal(creatorRole: Role, inviteRole: "editor" | "viewer"): string | null {
  if (creatorRole === "owner") return null;
  if (creatorRole === "editor") return inviteRole === "viewer" ? null : "only the room's owner can invite editors";
  return "viewers cannot invite others";
}

/**
 * The role a link lets someone join with, by its minter's role now (pure): a link never grants
 * more than its minter could hand out today, so a minter who left, was removed or was made a
 * viewer leaves dead links behind. Null: the link lets nobody in.
 */
export function inviteGrant(minterRole: Role | null, linkRole: string): "editor" | "viewer" | null {
  const role = linkRole === "editor" ? "editor" : "viewer";
  if (!minterRole) return null;
  return inviteRefusal(minterRole, role) === null ? role : null;
}

export async function createInvite(
  db: Db,
  roomId: string,
  userId: string,
  request: { role: "editor" | "viewer"; expiresInDays: number; maxUses: number | null },
  now = Date.now(),
): Promise<Outcome<{ token: string; role: "editor" | "viewer"; expiresAt: Date; maxUses: number | null }>> {
  const mine = await roleOf(db, roomId, userId);
  if (!mine) return { ok: false, status: 404, error: "room not found" };
  const refusal = inviteRefusal(mine, request.role);
  if (refusal) return { ok: false, status: 403, error: refusal };
  const token = randomBytes(INVITE_TOKEN_BYTES).toString("base64url");
  const expiresAt = new Date(now + request.expiresInDays * 24 * 3600_000);
  await db.roomInvite.create({
    data: { token, roomId, role: request.role, createdById: userId, expiresAt, maxUses: request.maxUses },
  });
  return { ok: true, value: { token, role: request.role, expiresAt, maxUses: request.maxUses } };
}

/** The room's invites that still work (owner only). */
export async function listInvites(
  db: Db,
  roomId: string,
  userId: string,
  now = Date.now(),
): Promise<Outcome<InviteInfo[]>> {
  const mine = await roleOf(db, roomId, userId);
  if (!mine) return { ok: false, status: 404, error: "room not found" };
  if (mine !== "owner") return { ok: false, status: 403, error: "only the room's owner can see its invite links" };
  const rows = await db.roomInvite.findMany({
    where: { roomId, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date(now) } }] },
    orderBy: { createdAt: "desc" },
    include: { createdBy: { select: { id: true, name: true, email: true } } },
  });
  return {
    ok: true,
    value: rows
      .filter((r) => r.maxUses === null || r.uses < r.maxUses)
      .map((r) => ({
        token: r.token,
        role: r.role === "editor" ? "editor" : "viewer",
        createdBy: { userId: r.createdBy.id, name: r.createdBy.name?.trim() || r.createdBy.email.split("@")[0]! },
        createdAt: r.createdAt.toISOString(),
        expiresAt: r.expiresAt?.toISOString() ?? null,
        maxUses: r.maxUses,
        uses: r.uses,
      })),
  };
}

/** Revokes an invite link of the room (owner only): it stops working at once. */
export async function revokeInvite(db: Db, roomId: string, token: string, userId: string): Promise<Outcome<null>> {
  const mine = await roleOf(db, roomId, userId);
  if (!mine) return { ok: false, status: 404, error: "room not found" };
  if (mine !== "owner") return { ok: false, status: 403, error: "only the room's owner can revoke invite links" };
  const deleted = await db.roomInvite.deleteMany({ where: { token, roomId } });
  if (deleted.count === 0) return { ok: false, status: 404, error: "no such invite link in this room" };
  return { ok: true, value: null };
}

/**
 * Joins the room an invite points at. Someone who is already a member keeps their role, higher
 * or lower (only the owner changes roles); the link is then not used up. A limited link is
 * counted atomically, so two people racing for its last use cannot both get in.
 */
export async function acceptInvite(
  db: Db,
  token: string,
  userId: string,
  now = Date.now(),
): Promise<Outcome<{ roomId: string; role: Role }>> {
  const invite = await db.roomInvite.findUnique({
    where: { token },
    select: { roomId: true, role: true, expiresAt: true, maxUses: true, uses: true, createdById: true },
  });
  const notValid = {
    ok: false as const,
    status: 404 as const,
    error: "this invite link is not valid (it may have been mistyped, revoked, or the room deleted)",
  };
  if (!invite) return notValid;
  const grant = inviteGrant(await roleOf(db, invite.roomId, invite.createdById), invite.role);
  if (!grant) return notValid;
  if (invite.expiresAt && invite.expiresAt.getTime() <= now) {
    return { ok: false, status: 410, error: "this invite link has expired; ask for a new one" };
  }
  const current = await roleOf(db, invite.roomId, userId);
  if (current) return { ok: true, value: { roomId: invite.roomId, role: current } };
  const usedUp = {
    ok: false as const,
    status: 410 as const,
    error: "this invite link has been used up; ask for a new one",
  };
  if (invite.maxUses !== null && invite.uses >= invite.maxUses) return usedUp;
  const inviteRole: Role = grant;
  try {
    await db.$transaction(async (tx) => {
      const claimed = await tx.roomInvite.updateMany({
        where: { token, ...(invite.maxUses !== null ? { uses: { lt: invite.maxUses } } : {}) },
        data: { uses: { increment: 1 } },
      });
      if (claimed.count === 0) throw new InviteUsedUp();
      await tx.roomMember.create({ data: { roomId: invite.roomId, userId, role: inviteRole, inviteToken: token } });
    });
  } catch (error) {
    if (error instanceof InviteUsedUp) return usedUp;
    // joined meanwhile (another tab): keep whatever role they have
    if (isUniqueViolation(error)) {
      const role = await roleOf(db, invite.roomId, userId);
      if (role) return { ok: true, value: { roomId: invite.roomId, role } };
    }
    throw error;
  }
  return { ok: true, value: { roomId: invite.roomId, role: inviteRole } };
}

class InviteUsedUp extends Error {}

/**
 * The owner changes a member's role (editor ↔ viewer). The owner's own role never changes, and
 * only existing members can be changed (roles are given by invites, not by this).
 */
export async function changeMemberRole(
  db: Db,
  roomId: string,
  actorId: string,
  memberId: string,
  role: "editor" | "viewer",
): Promise<Outcome<{ userId: string; role: Role }>> {
  const room = await db.room.findUnique({ where: { id: roomId }, select: { ownerId: true } });
  const actorRole = room ? await roleOf(db, roomId, actorId) : null;
  if (!room || !actorRole) return { ok: false, status: 404, error: "room not found" };
  if (actorRole !== "owner") return { ok: false, status: 403, error: "only the room's owner can change roles" };
  if (memberId === room.ownerId) return { ok: false, status: 409, error: "the owner's role cannot change" };
  const updated = await db.$transaction(async (tx) => {
    const changed = await tx.roomMember.updateMany({ where: { roomId, userId: memberId }, data: { role } });
    // a viewer cannot invite: the links they minted as an editor go (acceptInvite checks too)
    if (changed.count > 0 && role === "viewer")
      await tx.roomInvite.deleteMany({ where: { roomId, createdById: memberId } });
    return changed;
  });
  if (updated.count === 0) return { ok: false, status: 404, error: "no such member in this room" };
  return { ok: true, value: { userId: memberId, role } };
}

/**
 * The owner removes a member, or a member leaves. The owner cannot be removed. The invite links
 * they minted and the one they joined with are revoked with the membership, in one transaction:
 * otherwise reopening that link would make them a member again (a link shared with others dies
 * too: the owner makes a new one).
 */
export async function removeMember(db: Db, roomId: string, actorId: string, memberId: string): Promise<Outcome<null>> {
  const room = await db.room.findUnique({ where: { id: roomId }, select: { ownerId: true } });
  const actorRole = room ? await roleOf(db, roomId, actorId) : null;
  if (!room || !actorRole) return { ok: false, status: 404, error: "room not found" };
  if (actorRole !== "owner" && actorId !== memberId)
    return { ok: false, status: 403, error: "only the room's owner can remove others" };
  if (memberId === room.ownerId) return { ok: false, status: 409, error: "the owner cannot leave their own room" };
  const deleted = await db.$transaction(async (tx) => {
    const member = await tx.roomMember.findUnique({
      where: { roomId_userId: { roomId, userId: memberId } },
      select: { inviteToken: true },
    });
    if (!member) return false;
    await tx.roomMember.delete({ where: { roomId_userId: { roomId, userId: memberId } } });
    await tx.roomInvite.deleteMany({
      where: {
        roomId,
        OR: [{ createdById: memberId }, ...(member.inviteToken ? [{ token: member.inviteToken }] : [])],
      },
    });
    return true;
  });
  if (!deleted) return { ok: false, status: 404, error: "no such member in this room" };
  return { ok: true, value: null };
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
  // a public result publishes its image, not someone else's private sources (storage's access
  // rule): a remix must not hand them over either, so the ones the remixer cannot see are left out
  const hidden = new Set<string>();
  for (const imageId of imageIdsOfDocument(params)) if (!(await canViewImage(db, imageId, userId))) hidden.add(imageId);
  const document = roomDocument.parse({
    ...params,
    contentImageId: params.contentImageId && !hidden.has(params.contentImageId) ? params.contentImageId : null,
    styles: params.styles.filter((s) => !hidden.has(s.imageId)),
  });
  const room = await createRoom(db, userId, `Remix of ${result.title}`.slice(0, 80), document);
  return { ok: true, value: room };
}
