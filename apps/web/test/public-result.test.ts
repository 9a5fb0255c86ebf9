/**
 * Issue 26, item 7: an editor saving a public result from the owner's private images publishes
 * the result image only — never the sources (nor through a remix) — and the result page's
 * provenance names people, without room, run or user ids.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument, serializeRunParams, serializeStyleImageIds } from "@atelier/db";
import { defaultRoomDocument } from "@atelier/protocol";
import { storeImage } from "@atelier/storage";
import { provenanceForPage } from "@/server/provenance-view";
import { resultDetail } from "@/server/queries";
import { createUser, params, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const imagesDir = process.env.ATELIER_IMAGES ?? path.join(repoRoot, "..", "shared", "images");
const bytesOf = (file: string) => readFileSync(path.join(imagesDir, file));

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
});
afterAll(async () => env.cleanup());

async function fixture() {
  const alice = await createUser(env.db, "Alice");
  const bob = await createUser(env.db, "Bob");
  const carol = await createUser(env.db, "Carol");
  const store = (file: string, ownerId: string) => storeImage(env.db, bytesOf(file), { dataDir: env.dataDir, ownerId });
  const photo = await store("tubingen.jpg", alice.id);
  const painting = await store("starry_night.jpg", alice.id);
  const out = await store("the_scream.jpg", bob.id); // stands in for the run's output
  const room = await env.db.room.create({
    data: {
      name: "Alice's room",
      ownerId: alice.id,
      document: "{}",
      members: {
        create: [
          { userId: alice.id, role: "owner" },
          { userId: bob.id, role: "editor" },
        ],
      },
    },
  });
  const runParams = {
    ...defaultRoomDocument(),
    seed: 7,
    contentImageId: photo.id,
    styles: [{ imageId: painting.id, weight: 1 }],
  };
  const run = await env.db.run.create({
    data: { roomId: room.id, authorId: alice.id, params: serializeRunParams(runParams), seed: 7, status: "completed" },
  });
  const record = {
    method: "gatys-ecker-bethge-2015",
    runId: run.id,
    roomId: room.id,
    authorId: alice.id,
    savedBy: bob.id,
    savedAt: new Date().toISOString(),
    kind: "final",
    seed: 7,
    resumedFromId: null,
    liveEdits: [{ iteration: 3, field: "styleWeight", value: 1000, authorId: bob.id }],
    contentImageId: photo.id,
    styleImageIds: [painting.id],
  };
  const result = await env.db.result.create({
    data: {
      runId: run.id,
      imageId: out.id,
      authorId: bob.id,
      title: "Saved by the editor",
      isPublic: true,
      provenance: JSON.stringify(record),
      contentImageId: photo.id,
      styleImageIds: serializeStyleImageIds([painting.id]),
    },
  });
  return { alice, bob, carol, photo, painting, out, room, run, result };
}

async function imageStatus(id: string, cookie?: string): Promise<number> {
  const { GET } = await import("@/app/api/images/[id]/route");
  return (await GET(request(`/api/images/${id}`, { cookie }), params({ id }))).status;
}

describe("a public result from someone else's private images", () => {
  it("publishes the result image only: the sources stay private to the room", async () => {
    const f = await fixture();
    expect(await imageStatus(f.out.id)).toBe(200);
    const carolCookie = await sessionCookie(f.carol);
    for (const source of [f.photo, f.painting]) {
      expect(await imageStatus(source.id)).toBe(404);
      expect(await imageStatus(source.id, carolCookie)).toBe(404);
      expect(await imageStatus(source.id, await sessionCookie(f.bob))).toBe(200); // a member, as before
    }
    // the page says "private" instead of showing them
    const detail = await resultDetail(env.db, f.result.id, null);
    expect(detail?.hiddenSources.sort()).toEqual([f.photo.id, f.painting.id].sort());
    expect((await resultDetail(env.db, f.result.id, f.alice.id))?.hiddenSources).toEqual([]);
  });

  it("a remix leaves out the sources the remixer cannot see", async () => {
    const f = await fixture();
    const { POST } = await import("@/app/api/results/[id]/remix/route");
    const res = await POST(
      request(`/api/results/${f.result.id}/remix`, { method: "POST", cookie: await sessionCookie(f.carol) }),
      params({ id: f.result.id }),
    );
    expect(res.status).toBe(201);
    const { id } = ((await res.json()) as { room: { id: string } }).room;
    const doc = readRoomDocument(await env.db.room.findUniqueOrThrow({ where: { id }, select: { document: true } }));
    expect([doc?.contentImageId, doc?.styles]).toEqual([null, []]);
    expect(doc?.seed).toBe(7);
    expect(await imageStatus(f.photo.id, await sessionCookie(f.carol))).toBe(404);
  });

  it("its provenance names people, and no room, run or user id reaches the page", async () => {
    const f = await fixture();
    const detail = await resultDetail(env.db, f.result.id, null);
    expect(detail?.provenance).toMatchObject({
      startedBy: "Alice",
      savedBy: "Bob",
      resumed: false,
      liveEdits: [{ iteration: 3, field: "styleWeight", value: 1000, by: "Bob" }],
      seed: 7,
    });
    const shown = JSON.stringify(detail?.provenance);
    for (const internal of [f.room.id, f.run.id, f.alice.id, f.bob.id]) expect(shown).not.toContain(internal);
    expect(detail?.run).not.toHaveProperty("roomId");
  });

  it("provenanceForPage (pure): unknown people are 'someone'; fields a record lacks stay absent", () => {
    expect(provenanceForPage({ authorId: "u1", roomId: "r1", runId: "x" }, new Map())).toEqual({
      startedBy: "someone",
    });
    expect(provenanceForPage({ seed: 3 }, new Map())).toEqual({ seed: 3 });
  });
});
