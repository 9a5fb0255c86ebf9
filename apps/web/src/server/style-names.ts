import { readRoomDocument, roleOf, type Db } from "@atelier/db";

/**
 * The titles of the styles a room uses, for one of its members. Members already see these
 * images (they are in the room's document), so they may see their titles too, whoever owns the
 * style and whether or not it is public. Only images in the current document are named; an
 * image several people saved as a style gets its first title (oldest style row).
 */
export async function roomStyleNames(
  db: Db,
  roomId: string,
  userId: string,
): Promise<{ ok: true; names: Record<string, string> } | { ok: false }> {
  const [room, role] = await Promise.all([
    db.room.findUnique({ where: { id: roomId }, select: { document: true } }),
    roleOf(db, roomId, userId),
  ]);
  if (!room || !role) return { ok: false };
  const imageIds = readRoomDocument(room).styles.map((s) => s.imageId);
  if (imageIds.length === 0) return { ok: true, names: {} };
  const styles = await db.style.findMany({
    where: { imageId: { in: imageIds } },
    orderBy: { createdAt: "asc" },
    select: { imageId: true, name: true },
  });
  const names: Record<string, string> = {};
  for (const s of styles) names[s.imageId] ??= s.name;
  return { ok: true, names };
}
