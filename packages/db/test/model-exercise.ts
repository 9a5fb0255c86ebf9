import { expect } from "vitest";
import { defaultRoomDocument } from "@atelier/protocol";
import type { Db } from "../src/index.ts";
import {
  roleOf,
  serializeRoomDocument,
  serializeRunParams,
  serializeStyleImageIds,
  readRoomDocument,
  readRunParams,
} from "../src/index.ts";

/**
 * Creates a user/room/member/run/result/like graph and checks reads, unique rules and cascades.
 * Shared by the SQLite and PostgreSQL tests: both providers must behave the same.
 */
export async function exerciseModel(db: Db): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 8);
  const alice = await db.user.create({ data: { email: `alice-${suffix}@example.com`, name: "Alice" } });
  const bob = await db.user.create({ data: { email: `bob-${suffix}@example.com`, name: "Bob" } });

  // unique email
  await expect(db.user.create({ data: { email: `alice-${suffix}@example.com` } })).rejects.toMatchObject({
    code: "P2002",
  });

  const content = await db.image.create({
    data: { sha256: "a".repeat(64), mime: "image/jpeg", width: 640, height: 480, bytes: 1000, ownerId: alice.id },
  });
  const styleImage = await db.image.create({
    data: { sha256: "b".repeat(64), mime: "image/png", width: 512, height: 512, bytes: 2000, ownerId: alice.id },
  });
  const style = await db.style.create({
    data: { name: "Starry", imageId: styleImage.id, ownerId: alice.id, isPublic: true },
  });

  const document = {
    ...defaultRoomDocument(),
    contentImageId: content.id,
    styles: [{ imageId: styleImage.id, weight: 1 }],
  };
  const room = await db.room.create({
    data: {
      name: "Room",
      ownerId: alice.id,
      document: serializeRoomDocument(document),
      members: {
        create: [
          { userId: alice.id, role: "owner" },
          { userId: bob.id, role: "editor" },
        ],
      },
    },
  });
  expect(readRoomDocument(room)).toEqual(document);
  expect(await roleOf(db, room.id, alice.id)).toBe("owner");
  expect(await roleOf(db, room.id, bob.id)).toBe("editor");

  const params = { ...document, contentImageId: content.id };
  const run = await db.run.create({
    data: { roomId: room.id, authorId: bob.id, params: serializeRunParams(params), seed: params.seed },
  });
  expect(run.status).toBe("queued");
  expect(readRunParams(run)).toEqual(params);
  const finishedAt = new Date("2026-01-02T03:04:05.678Z");
  await db.run.update({
    where: { id: run.id },
    data: { status: "completed", iterations: 10, finishedAt, computeMs: 1234 },
  });
  expect((await db.run.findUniqueOrThrow({ where: { id: run.id } })).finishedAt).toEqual(finishedAt);

  const resultImage = await db.image.create({
    data: { sha256: "c".repeat(64), mime: "image/png", width: 512, height: 384, bytes: 3000, ownerId: bob.id },
  });
  const result = await db.result.create({
    data: {
      runId: run.id,
      imageId: resultImage.id,
      authorId: bob.id,
      title: "First",
      isPublic: true,
      provenance: JSON.stringify({ params, seed: params.seed }),
      contentImageId: content.id,
      styleImageIds: serializeStyleImageIds([styleImage.id]),
    },
  });
  await db.like.create({ data: { userId: alice.id, resultId: result.id } });
  await expect(db.like.create({ data: { userId: alice.id, resultId: result.id } })).rejects.toMatchObject({
    code: "P2002",
  });
  const updated = await db.result.update({ where: { id: result.id }, data: { likeCount: { increment: 1 } } });
  expect(updated.likeCount).toBe(1);

  const gallery = await db.result.findMany({
    where: { isPublic: true, authorId: bob.id },
    orderBy: [{ likeCount: "desc" }, { createdAt: "desc" }],
    include: { author: { select: { name: true } }, _count: { select: { likes: true } } },
  });
  expect(gallery.map((r) => [r.id, r.author.name, r._count.likes])).toEqual([[result.id, "Bob", 1]]);

  // Cascades: deleting the room deletes its members and runs, and the runs' results and likes;
  // images stay (they belong to users), styles stay.
  await db.room.delete({ where: { id: room.id } });
  expect(await db.roomMember.count({ where: { roomId: room.id } })).toBe(0);
  expect(await db.run.count({ where: { roomId: room.id } })).toBe(0);
  expect(await db.result.count({ where: { id: result.id } })).toBe(0);
  expect(await db.like.count({ where: { resultId: result.id } })).toBe(0);
  expect(await db.image.count({ where: { id: { in: [content.id, styleImage.id, resultImage.id] } } })).toBe(3);
  expect(await db.style.count({ where: { id: style.id } })).toBe(1);
  expect(await roleOf(db, room.id, alice.id)).toBeNull();

  // Deleting a user: their styles go (cascade), their images stay ownerless (SetNull).
  await db.user.delete({ where: { id: alice.id } });
  expect(await db.style.count({ where: { id: style.id } })).toBe(0);
  const orphan = await db.image.findUniqueOrThrow({ where: { id: content.id } });
  expect(orphan.ownerId).toBeNull();

  // Deleting an image deletes the results made from it.
  const room2 = await db.room.create({
    data: { name: "R2", ownerId: bob.id, document: serializeRoomDocument(defaultRoomDocument()) },
  });
  const run2 = await db.run.create({
    data: { roomId: room2.id, authorId: bob.id, params: serializeRunParams(params), seed: 1 },
  });
  const result2 = await db.result.create({
    data: { runId: run2.id, imageId: resultImage.id, authorId: bob.id, title: "Second", provenance: "{}" },
  });
  expect(result2.styleImageIds).toBe("[]");
  await db.image.delete({ where: { id: resultImage.id } });
  expect(await db.result.count({ where: { id: result2.id } })).toBe(0);
  await db.user.delete({ where: { id: bob.id } });
  expect(await db.room.count({ where: { id: room2.id } })).toBe(0);
}
