import { imageIdsOfDocument, readRoomDocument, readRunParams, readStyleImageIds, type Db } from "@atelier/db";

/**
 * Whether a user (null: signed out) may see an image — the one access rule for image files and
 * thumbnails. Visible when:
 * - it is used by a public Style, or is a public Result's image, or is a public Result's content
 *   or style image *uploaded by that result's author*: publishing a result made from someone
 *   else's private photo or painting publishes the result image only, never those sources
 *   (an editor cannot make the room owner's photo public by saving a public result);
 * - the user owns it (uploaded it / it was generated for them);
 * - the user is a member (or the owner) of a room whose document uses it, or that has a run that
 *   used it or produced it (its saved results, or the image the run left when it ended).
 */
export async function canViewImage(db: Db, imageId: string, userId: string | null): Promise<boolean> {
  if (!imageId) return false;
  const image = await db.image.findUnique({ where: { id: imageId }, select: { ownerId: true } });
  if (!image) return false;
  if (userId && image.ownerId === userId) return true;

  if (await db.style.findFirst({ where: { imageId, isPublic: true }, select: { id: true } })) return true;
  if (await db.result.findFirst({ where: { isPublic: true, imageId }, select: { id: true } })) return true;
  // a source is published by a public result only when the result's author is its owner
  const publishedByOwner = image.ownerId ? { isPublic: true, authorId: image.ownerId } : null;
  if (
    publishedByOwner &&
    (await db.result.findFirst({ where: { ...publishedByOwner, contentImageId: imageId }, select: { id: true } }))
  ) {
    return true;
  }
  // styleImageIds is JSON text: narrow with a substring match, confirm by parsing.
  const quoted = JSON.stringify(imageId);
  const publicWithStyle = publishedByOwner
    ? await db.result.findMany({
        where: { ...publishedByOwner, styleImageIds: { contains: quoted } },
        select: { styleImageIds: true },
        take: 20,
      })
    : [];
  if (publicWithStyle.some((r) => readStyleImageIds(r).includes(imageId))) return true;

  if (!userId) return false;
  const inMyRooms = { room: { OR: [{ ownerId: userId }, { members: { some: { userId } } }] } };

  const rooms = await db.room.findMany({
    where: { OR: [{ ownerId: userId }, { members: { some: { userId } } }], document: { contains: quoted } },
    select: { document: true },
  });
  if (rooms.some((r) => imageIdsOfDocument(readRoomDocument(r)).includes(imageId))) return true;

  // the image a run of one of my rooms left when it ended
  if (await db.run.findFirst({ where: { ...inMyRooms, finalImageId: imageId }, select: { id: true } })) return true;

  const runs = await db.run.findMany({
    where: { ...inMyRooms, params: { contains: quoted } },
    select: { params: true },
  });
  if (
    runs.some((r) => {
      const params = readRunParams(r);
      return params !== null && imageIdsOfDocument(params).includes(imageId);
    })
  ) {
    return true;
  }

  const result = await db.result.findFirst({
    where: { OR: [{ authorId: userId }, { run: inMyRooms }], AND: { OR: [{ imageId }, { contentImageId: imageId }] } },
    select: { id: true },
  });
  if (result) return true;
  const resultsWithStyle = await db.result.findMany({
    where: { OR: [{ authorId: userId }, { run: inMyRooms }], styleImageIds: { contains: quoted } },
    select: { styleImageIds: true },
  });
  return resultsWithStyle.some((r) => readStyleImageIds(r).includes(imageId));
}
