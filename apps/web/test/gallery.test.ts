/**
 * The gallery's read model (what /gallery renders) on a real database: only public results,
 * newest first or most liked, filtered by a style image, in pages of GALLERY_PAGE_SIZE with a
 * "more" flag. Query strings go through the same galleryQuery schema as the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeRunParams } from "@atelier/db";
import { defaultRoomDocument, galleryQuery } from "@atelier/protocol";
import { GALLERY_PAGE_SIZE, galleryResults } from "@/server/queries";
import { createUser, setupTestEnv, type TestEnv } from "./helpers";

let env: TestEnv;
let starry = "";
let scream = "";
/** public result ids, oldest first */
const publicIds: string[] = [];
const screamIds: string[] = [];
const privateIds: string[] = [];

beforeAll(async () => {
  env = await setupTestEnv();
  const db = env.db;
  const ann = await createUser(db, "Ann");
  let sha = 0;
  const image = async () =>
    (
      await db.image.create({
        data: {
          sha256: String(++sha).padStart(64, "0"),
          mime: "image/png",
          width: 8,
          height: 8,
          bytes: 100,
          ownerId: ann.id,
        },
      })
    ).id;
  const content = await image();
  [starry, scream] = [await image(), await image()];
  const room = await db.room.create({
    data: {
      name: "Gallery room",
      ownerId: ann.id,
      document: "{}",
      members: { create: { userId: ann.id, role: "owner" } },
    },
  });
  const base = Date.now() - 3600_000;
  // one more than a page and a bit of public results, every third with the scream, plus private ones
  const count = GALLERY_PAGE_SIZE + 4;
  for (let i = 0; i < count + 3; i++) {
    const isPublic = i < count;
    const style = i % 3 === 0 ? scream : starry;
    const params = { ...defaultRoomDocument(), contentImageId: content, styles: [{ imageId: style, weight: 1 }] };
    const run = await db.run.create({
      data: { roomId: room.id, authorId: ann.id, params: serializeRunParams(params), seed: 42, status: "completed" },
    });
    const result = await db.result.create({
      data: {
        runId: run.id,
        imageId: await image(),
        authorId: ann.id,
        title: `Result ${i}`,
        isPublic,
        provenance: "{}",
        contentImageId: content,
        styleImageIds: JSON.stringify([style]),
        likeCount: (i * 7) % 11, // not in creation order
        createdAt: new Date(base + i * 1000),
      },
    });
    if (!isPublic) privateIds.push(result.id);
    else {
      publicIds.push(result.id);
      if (style === scream) screamIds.push(result.id);
    }
  }
});
afterAll(async () => env.cleanup());

describe("gallery", () => {
  it("pages through the public results, newest first, with a 'more' flag", async () => {
    const newest = [...publicIds].reverse();
    const page1 = await galleryResults(env.db, galleryQuery.parse({}));
    expect(page1.cards.map((c) => c.id)).toEqual(newest.slice(0, GALLERY_PAGE_SIZE));
    expect(page1.hasMore).toBe(true);
    const page2 = await galleryResults(env.db, galleryQuery.parse({ page: "2" }));
    expect(page2.cards.map((c) => c.id)).toEqual(newest.slice(GALLERY_PAGE_SIZE));
    expect(page2.hasMore).toBe(false);
    expect(page2.cards.every((c) => c.isPublic)).toBe(true);
    const all = [...page1.cards, ...page2.cards].map((c) => c.id);
    for (const id of privateIds) expect(all).not.toContain(id);
    // a page past the end is empty; a nonsense page number is page 1
    expect((await galleryResults(env.db, galleryQuery.parse({ page: "3" }))).cards).toEqual([]);
    expect((await galleryResults(env.db, galleryQuery.parse({ page: "-4" }))).cards.map((c) => c.id)).toEqual(
      newest.slice(0, GALLERY_PAGE_SIZE),
    );
  });

  it("sorts by likes (newest first among equals)", async () => {
    const { cards } = await galleryResults(env.db, galleryQuery.parse({ sort: "liked" }));
    expect(cards).toHaveLength(GALLERY_PAGE_SIZE);
    for (let i = 1; i < cards.length; i++) {
      const [prev, next] = [cards[i - 1]!, cards[i]!];
      expect(prev.likeCount).toBeGreaterThanOrEqual(next.likeCount);
      if (prev.likeCount === next.likeCount) expect(prev.createdAt.getTime()).toBeGreaterThan(next.createdAt.getTime());
    }
    expect(cards[0]!.likeCount).toBe(Math.max(...cards.map((c) => c.likeCount)));
  });

  it("filters by a style image, and pages within the filter", async () => {
    const { cards, hasMore } = await galleryResults(env.db, galleryQuery.parse({ style: scream }));
    expect(cards.map((c) => c.id)).toEqual([...screamIds].reverse());
    expect(hasMore).toBe(false);
    expect(cards.every((c) => c.styleImageIds.includes(scream))).toBe(true);
    const starryOnly = await galleryResults(env.db, galleryQuery.parse({ style: starry }));
    expect(starryOnly.cards).toHaveLength(Math.min(GALLERY_PAGE_SIZE, publicIds.length - screamIds.length));
    expect(starryOnly.cards.some((c) => c.styleImageIds.includes(scream))).toBe(false);
    expect((await galleryResults(env.db, galleryQuery.parse({ style: "no-such-image" }))).cards).toEqual([]);
  });
});
