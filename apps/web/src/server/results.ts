import { isUniqueViolation, type Db } from "@atelier/db";
import type { LikeResponse } from "@atelier/protocol";
import type { Outcome } from "./rooms";

async function visibleResult(db: Db, resultId: string, userId: string) {
  const r = await db.result.findUnique({ where: { id: resultId }, select: { isPublic: true, authorId: true } });
  return r && (r.isPublic || r.authorId === userId) ? r : null;
}

/**
 * Like / unlike, idempotent: the Like row and Result.likeCount change together in one
 * transaction, so the count always equals the number of likes.
 */
export async function setLike(
  db: Db,
  resultId: string,
  userId: string,
  liked: boolean,
): Promise<Outcome<LikeResponse>> {
  if (!(await visibleResult(db, resultId, userId))) return { ok: false, status: 404, error: "result not found" };
  try {
    const likeCount = await db.$transaction(async (tx) => {
      if (liked) {
        const existing = await tx.like.findUnique({
          where: { userId_resultId: { userId, resultId } },
          select: { userId: true },
        });
        if (!existing) {
          await tx.like.create({ data: { userId, resultId } });
          return (
            await tx.result.update({
              where: { id: resultId },
              data: { likeCount: { increment: 1 } },
              select: { likeCount: true },
            })
          ).likeCount;
        }
      } else {
        const removed = await tx.like.deleteMany({ where: { userId, resultId } });
        if (removed.count > 0) {
          return (
            await tx.result.update({
              where: { id: resultId },
              data: { likeCount: { decrement: removed.count } },
              select: { likeCount: true },
            })
          ).likeCount;
        }
      }
      return (await tx.result.findUniqueOrThrow({ where: { id: resultId }, select: { likeCount: true } })).likeCount;
    });
    return { ok: true, value: { liked, likeCount } };
  } catch (error) {
    // Two likes of the same user racing: the other one created the row and counted it.
    if (liked && isUniqueViolation(error)) {
      const { likeCount } = await db.result.findUniqueOrThrow({ where: { id: resultId }, select: { likeCount: true } });
      return { ok: true, value: { liked, likeCount } };
    }
    throw error;
  }
}
