import { role as roleSchema, type Role } from "@atelier/protocol";
import type { Db } from "./client.ts";

/**
 * The user's role in the room, or null when they have none (or the room does not exist).
 * The room's owner is "owner" even without a membership row; an unknown stored role string
 * counts as no role (deny rather than guess).
 */
export async function roleOf(db: Db, roomId: string, userId: string): Promise<Role | null> {
  const room = await db.room.findUnique({
    where: { id: roomId },
    select: { ownerId: true, members: { where: { userId }, select: { role: true } } },
  });
  if (!room) return null;
  if (room.ownerId === userId) return "owner";
  const stored = room.members[0]?.role;
  const parsed = roleSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}
