import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultRoomDocument } from "@atelier/protocol";
import { serializeRoomDocument, serializeRunParams, serializeStyleImageIds, type Db, type Image } from "@atelier/db";
import { canViewImage } from "../src/index.ts";
import { tempStore } from "./support.ts";

let store: Awaited<ReturnType<typeof tempStore>>;
let db: Db;
const users: Record<"alice" | "bob" | "carol" | "dave", string> = { alice: "", bob: "", carol: "", dave: "" };

async function image(ownerId: string | null, tag: string): Promise<Image> {
  const sha = Buffer.from(tag.padEnd(32, "_")).toString("hex").slice(0, 64);
  return db.image.create({ data: { sha256: sha, mime: "image/png", width: 10, height: 10, bytes: 100, ownerId } });
}

beforeAll(async () => {
  store = await tempStore();
  db = store.db;
  for (const name of Object.keys(users) as (keyof typeof users)[]) {
    users[name] = (await db.user.create({ data: { email: `${name}@example.com`, name } })).id;
  }
});
afterAll(async () => store.cleanup());

describe("canViewImage", () => {
  it("private uploads: only their owner", async () => {
    const img = await image(users.alice, "private");
    expect(await canViewImage(db, img.id, users.alice)).toBe(true);
    expect(await canViewImage(db, img.id, users.bob)).toBe(false);
    expect(await canViewImage(db, img.id, null)).toBe(false);
    expect(await canViewImage(db, "no-such-image", users.alice)).toBe(false);
    expect(await canViewImage(db, "", null)).toBe(false);
  });

  it("public styles and public results (image, content, styles) are visible to everyone", async () => {
    const styleImg = await image(users.alice, "style");
    await db.style.create({ data: { name: "s", imageId: styleImg.id, ownerId: users.alice, isPublic: false } });
    expect(await canViewImage(db, styleImg.id, null)).toBe(false);
    await db.style.create({ data: { name: "s2", imageId: styleImg.id, ownerId: users.alice, isPublic: true } });
    expect(await canViewImage(db, styleImg.id, null)).toBe(true);

    const content = await image(users.bob, "content");
    const s1 = await image(users.bob, "s1");
    const s2 = await image(users.bob, "s2");
    const out = await image(users.bob, "out");
    const room = await db.room.create({
      data: { name: "r", ownerId: users.bob, document: serializeRoomDocument(defaultRoomDocument()) },
    });
    const params = {
      ...defaultRoomDocument(),
      contentImageId: content.id,
      styles: [
        { imageId: s1.id, weight: 1 },
        { imageId: s2.id, weight: 1 },
      ],
    };
    const run = await db.run.create({
      data: { roomId: room.id, authorId: users.bob, params: serializeRunParams(params), seed: 1 },
    });
    const result = await db.result.create({
      data: {
        runId: run.id,
        imageId: out.id,
        authorId: users.bob,
        title: "t",
        isPublic: false,
        provenance: "{}",
        contentImageId: content.id,
        styleImageIds: serializeStyleImageIds([s1.id, s2.id]),
      },
    });
    for (const img of [content, s1, s2, out]) expect(await canViewImage(db, img.id, users.carol)).toBe(false);
    await db.result.update({ where: { id: result.id }, data: { isPublic: true } });
    for (const img of [content, s1, s2, out]) {
      expect(await canViewImage(db, img.id, null)).toBe(true);
      expect(await canViewImage(db, img.id, users.carol)).toBe(true);
    }
  });

  it("a public result made from someone else's private images publishes the result image only (issue 26)", async () => {
    // Alice's room; Bob (an editor) saves a public result from Alice's private photo and painting
    const photo = await image(users.alice, "alice-photo");
    const painting = await image(users.alice, "alice-painting");
    const out = await image(users.bob, "bob-result");
    const room = await db.room.create({
      data: {
        name: "alice's",
        ownerId: users.alice,
        document: serializeRoomDocument(defaultRoomDocument()),
        members: { create: [{ userId: users.bob, role: "editor" }] },
      },
    });
    const params = {
      ...defaultRoomDocument(),
      contentImageId: photo.id,
      styles: [{ imageId: painting.id, weight: 1 }],
    };
    const run = await db.run.create({
      data: { roomId: room.id, authorId: users.bob, params: serializeRunParams(params), seed: 1 },
    });
    await db.result.create({
      data: {
        runId: run.id,
        imageId: out.id,
        authorId: users.bob,
        title: "made from Alice's",
        isPublic: true,
        provenance: "{}",
        contentImageId: photo.id,
        styleImageIds: serializeStyleImageIds([painting.id]),
      },
    });
    expect(await canViewImage(db, out.id, null)).toBe(true);
    expect(await canViewImage(db, out.id, users.carol)).toBe(true);
    for (const source of [photo, painting]) {
      expect(await canViewImage(db, source.id, null)).toBe(false);
      expect(await canViewImage(db, source.id, users.carol)).toBe(false);
      // the room's members still see them, as before
      expect(await canViewImage(db, source.id, users.bob)).toBe(true);
      expect(await canViewImage(db, source.id, users.alice)).toBe(true);
    }
  });

  it("an id inside another id in styleImageIds does not leak", async () => {
    const short = await db.image.create({
      data: {
        id: "imgshort",
        sha256: "e".repeat(64),
        mime: "image/png",
        width: 1,
        height: 1,
        bytes: 1,
        ownerId: users.alice,
      },
    });
    const room = await db.room.create({
      data: { name: "r", ownerId: users.alice, document: serializeRoomDocument(defaultRoomDocument()) },
    });
    const other = await image(users.alice, "other");
    const params = { ...defaultRoomDocument(), contentImageId: other.id, styles: [{ imageId: other.id, weight: 1 }] };
    const run = await db.run.create({
      data: { roomId: room.id, authorId: users.alice, params: serializeRunParams(params), seed: 1 },
    });
    await db.result.create({
      data: {
        runId: run.id,
        imageId: other.id,
        authorId: users.alice,
        title: "t",
        isPublic: true,
        provenance: "{}",
        styleImageIds: serializeStyleImageIds(["imgshort-longer", "x-imgshort"]),
      },
    });
    expect(await canViewImage(db, short.id, null)).toBe(false);
    expect(await canViewImage(db, short.id, users.dave)).toBe(false);
  });

  it("room members see the images of the room's document, runs and results; others do not", async () => {
    const content = await image(users.alice, "room-content");
    const style = await image(users.alice, "room-style");
    const earlier = await image(users.alice, "earlier-content");
    const output = await image(null, "room-output");
    const doc = { ...defaultRoomDocument(), contentImageId: earlier.id, styles: [{ imageId: style.id, weight: 1 }] };
    const room = await db.room.create({
      data: {
        name: "shared",
        ownerId: users.alice,
        document: serializeRoomDocument(doc),
        members: {
          create: [
            { userId: users.alice, role: "owner" },
            { userId: users.bob, role: "viewer" },
          ],
        },
      },
    });
    const run = await db.run.create({
      data: {
        roomId: room.id,
        authorId: users.alice,
        params: serializeRunParams({ ...doc, contentImageId: earlier.id }),
        seed: 1,
      },
    });
    // the document has moved on to another content image since the run
    await db.room.update({
      where: { id: room.id },
      data: { document: serializeRoomDocument({ ...doc, contentImageId: content.id }) },
    });
    await db.result.create({
      data: { runId: run.id, imageId: output.id, authorId: users.alice, title: "private", provenance: "{}" },
    });

    for (const img of [content, style, earlier, output]) {
      expect(await canViewImage(db, img.id, users.bob), img.sha256).toBe(true);
      expect(await canViewImage(db, img.id, users.carol)).toBe(false);
      expect(await canViewImage(db, img.id, null)).toBe(false);
    }
    // the owner without a membership row still counts
    await db.roomMember.delete({ where: { roomId_userId: { roomId: room.id, userId: users.alice } } });
    expect(await canViewImage(db, output.id, users.alice)).toBe(true);
    // leaving the room ends it
    await db.roomMember.delete({ where: { roomId_userId: { roomId: room.id, userId: users.bob } } });
    for (const img of [content, style, earlier, output]) expect(await canViewImage(db, img.id, users.bob)).toBe(false);
  });

  it("the image a run left when it ended: the room's members see it, nobody else", async () => {
    const left = await image(users.carol, "run-left");
    const doc = { ...defaultRoomDocument(), contentImageId: left.id, styles: [{ imageId: left.id, weight: 1 }] };
    const room = await db.room.create({
      data: {
        name: "ended",
        ownerId: users.carol,
        document: serializeRoomDocument(defaultRoomDocument()),
        members: { create: [{ userId: users.dave, role: "viewer" }] },
      },
    });
    const ended = await image(users.carol, "run-ended");
    expect(await canViewImage(db, ended.id, users.dave)).toBe(false);
    await db.run.create({
      data: {
        roomId: room.id,
        authorId: users.carol,
        params: serializeRunParams(doc),
        seed: 1,
        finalImageId: ended.id,
      },
    });
    expect(await canViewImage(db, ended.id, users.dave)).toBe(true);
    expect(await canViewImage(db, ended.id, users.bob)).toBe(false);
    expect(await canViewImage(db, ended.id, null)).toBe(false);
  });

  it("a broken stored document or run params never throws, it just grants nothing", async () => {
    const img = await image(users.alice, "broken");
    const room = await db.room.create({
      data: {
        name: "broken",
        ownerId: users.alice,
        document: `{"contentImageId": "${img.id}", "size": "huge"`,
        members: { create: [{ userId: users.dave, role: "editor" }] },
      },
    });
    await db.run.create({ data: { roomId: room.id, authorId: users.alice, params: `["${img.id}"]`, seed: 1 } });
    expect(await canViewImage(db, img.id, users.dave)).toBe(false);
    // a salvageable document still works: only the bad field is dropped
    await db.room.update({
      where: { id: room.id },
      data: { document: JSON.stringify({ contentImageId: img.id, size: "huge" }) },
    });
    expect(await canViewImage(db, img.id, users.dave)).toBe(true);
  });
});
