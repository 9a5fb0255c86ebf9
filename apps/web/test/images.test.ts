import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { serializeRoomDocument } from "@atelier/db";
import { defaultRoomDocument } from "@atelier/protocol";
import { imageFilePath } from "@atelier/storage";
import { createUser, params, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const imagesDir = process.env.ATELIER_IMAGES ?? path.join(repoRoot, "..", "shared", "images");
const tubingen = readFileSync(path.join(imagesDir, "tubingen.jpg"));
const starry = readFileSync(path.join(imagesDir, "starry_night.jpg"));

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
});
afterAll(async () => env.cleanup());
afterEach(() => {
  delete process.env.ATELIER_UPLOAD_MAX_BYTES;
  delete process.env.ATELIER_UPLOAD_MAX_PIXELS;
});

function form(fields: Record<string, string | Blob>, filename = "upload.jpg"): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Blob) f.append(k, v, filename);
    else f.append(k, v);
  }
  return f;
}

async function upload(pathname: string, body: FormData, cookie?: string) {
  const route =
    pathname === "/api/styles" ? await import("@/app/api/styles/route") : await import("@/app/api/images/route");
  return route.POST(request(pathname, { method: "POST", body, cookie }));
}

async function getImage(id: string, query = "", init: { cookie?: string; headers?: Record<string, string> } = {}) {
  const { GET } = await import("@/app/api/images/[id]/route");
  return GET(request(`/api/images/${id}${query}`, init), params({ id }));
}

describe("POST /api/images", () => {
  it("needs a session", async () => {
    const res = await upload("/api/images", form({ file: new Blob([tubingen]) }));
    expect(res.status).toBe(401);
  });

  it("stores a JPEG content-addressed under DATA_DIR", async () => {
    const ann = await createUser(env.db, "Ann");
    const res = await upload(
      "/api/images",
      form({ file: new Blob([tubingen], { type: "image/jpeg" }) }),
      await sessionCookie(ann),
    );
    expect(res.status).toBe(201);
    const { image } = await res.json();
    expect(image).toMatchObject({ mime: "image/jpeg", bytes: tubingen.byteLength });
    expect(image.width).toBeGreaterThan(0);
    const row = await env.db.image.findUniqueOrThrow({ where: { id: image.id } });
    expect(row.ownerId).toBe(ann.id);
    expect(existsSync(path.join(env.dataDir, "images", `${row.sha256}.jpg`))).toBe(true);
  });

  it("refuses a text file named .jpg, by its content, and stores nothing", async () => {
    const ann = await createUser(env.db, "Ann");
    const before = await env.db.image.count();
    const fake = new Blob(["this is not an image, just text pretending"], { type: "image/jpeg" });
    const res = await upload("/api/images", form({ file: fake }, "holiday.jpg"), await sessionCookie(ann));
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: "Only JPEG, PNG and WebP images can be used.", field: "file" });
    expect(await env.db.image.count()).toBe(before);
  });

  it("refuses an over-size file with the limit in the message", async () => {
    process.env.ATELIER_UPLOAD_MAX_BYTES = String(200 * 1024);
    const ann = await createUser(env.db, "Ann");
    const before = await env.db.image.count();
    const res = await upload("/api/images", form({ file: new Blob([tubingen]) }), await sessionCookie(ann)); // ~397 KB
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/too large|limit is 0\.2 MB/);
    expect(await env.db.image.count()).toBe(before);
  });

  it("refuses an image with too many pixels", async () => {
    process.env.ATELIER_UPLOAD_MAX_PIXELS = String(100 * 100);
    const ann = await createUser(env.db, "Ann");
    const big = await sharp({ create: { width: 300, height: 200, channels: 3, background: "#b0502a" } })
      .png()
      .toBuffer();
    const res = await upload(
      "/api/images",
      form({ file: new Blob([new Uint8Array(big)]) }, "big.png"),
      await sessionCookie(ann),
    );
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/pixel/i);
  });

  it("asks for a file when there is none", async () => {
    const ann = await createUser(env.db, "Ann");
    const res = await upload("/api/images", form({ other: "x" }), await sessionCookie(ann));
    expect(res.status).toBe(400);
    expect((await res.json()).field).toBe("file");
  });
});

describe("GET /api/images/:id", () => {
  it("serves a private image to its owner and room members only, with private cache headers", async () => {
    const ann = await createUser(env.db, "Ann");
    const bob = await createUser(env.db, "Bob");
    const eve = await createUser(env.db, "Eve");
    const { image } = await (
      await upload("/api/images", form({ file: new Blob([tubingen]) }), await sessionCookie(ann))
    ).json();
    const row = await env.db.image.findUniqueOrThrow({ where: { id: image.id } });

    expect((await getImage(image.id)).status).toBe(404); // signed out
    expect((await getImage(image.id, "", { cookie: await sessionCookie(eve) })).status).toBe(404); // stranger
    expect((await getImage(image.id, "", { cookie: await sessionCookie(bob) })).status).toBe(404);

    const own = await getImage(image.id, "", { cookie: await sessionCookie(ann) });
    expect(own.status).toBe(200);
    expect(own.headers.get("Content-Type")).toBe("image/jpeg");
    expect(own.headers.get("Cache-Control")).toBe("private, max-age=31536000, immutable");
    expect(own.headers.get("ETag")).toBe(`"${row.sha256}-orig"`);
    expect(Buffer.from(await own.arrayBuffer()).equals(tubingen)).toBe(true);

    // Bob becomes a member of a room whose document uses the image
    const doc = { ...defaultRoomDocument(), contentImageId: image.id };
    await env.db.room.create({
      data: {
        name: "R",
        ownerId: ann.id,
        document: serializeRoomDocument(doc),
        members: {
          create: [
            { userId: ann.id, role: "owner" },
            { userId: bob.id, role: "viewer" },
          ],
        },
      },
    });
    expect((await getImage(image.id, "?w=320", { cookie: await sessionCookie(bob) })).status).toBe(200);
    expect((await getImage(image.id, "", { cookie: await sessionCookie(eve) })).status).toBe(404);
  });

  it("serves public images to anyone, publicly cacheable; thumbnails, 304 and PNG download", async () => {
    const ann = await createUser(env.db, "Ann");
    const res = await upload(
      "/api/styles",
      form({ file: new Blob([starry]), name: "Starry Night", isPublic: "true" }),
      await sessionCookie(ann),
    );
    expect(res.status).toBe(201);
    const { style } = await res.json();
    expect(style).toMatchObject({ name: "Starry Night", isPublic: true, mine: true });
    const row = await env.db.image.findUniqueOrThrow({ where: { id: style.imageId } });

    const thumb = await getImage(style.imageId, "?w=320");
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("Content-Type")).toBe("image/webp");
    expect(thumb.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    const etag = thumb.headers.get("ETag")!;
    expect(etag).toBe(`"${row.sha256}-w320"`);
    const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
    expect(meta.width).toBeLessThanOrEqual(320);

    const again = await getImage(style.imageId, "?w=320", { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);

    const png = await getImage(style.imageId, "?format=png&download=1");
    expect(png.headers.get("Content-Type")).toBe("image/png");
    expect(png.headers.get("Content-Disposition")).toMatch(/attachment; filename="atelier-.*\.png"/);
    expect((await sharp(Buffer.from(await png.arrayBuffer())).metadata()).format).toBe("png");

    expect((await getImage(style.imageId, "?w=abc")).status).toBe(400);
    expect((await getImage("no-such-image")).status).toBe(404);
  });
});

describe("style library", () => {
  it("answers a missing or damaged stored file with 410 / 422 for every variant, never 500", async () => {
    const ann = await createUser(env.db, "Ann");
    const cookie = await sessionCookie(ann);
    // an image of its own (its file is not shared with the other tests' uploads)
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#3a6ea5" } })
      .png()
      .toBuffer();
    const res = await upload("/api/images", form({ file: new Blob([new Uint8Array(png)]) }, "own.png"), cookie);
    const damaged = (await res.json()).image as { id: string };
    const variants = ["", "?w=160", "?format=png", "?w=1280&format=png"];

    const row = await env.db.image.findUniqueOrThrow({ where: { id: damaged.id } });
    const file = imageFilePath(row, { dataDir: env.dataDir });
    // a JPEG start and garbage after it: the bytes no longer match the stored hash
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7)]));
    for (const v of variants) expect([v, (await getImage(damaged.id, v, { cookie })).status]).toEqual([v, 422]);

    rmSync(file);
    for (const v of variants) expect([v, (await getImage(damaged.id, v, { cookie })).status]).toEqual([v, 410]);
  });

  it("lists mine and public styles; only the owner edits or deletes; the image survives deletion", async () => {
    const { GET } = await import("@/app/api/styles/route");
    const { PATCH, DELETE } = await import("@/app/api/styles/[id]/route");
    const ann = await createUser(env.db, "Ann");
    const bob = await createUser(env.db, "Bob");
    const annCookie = await sessionCookie(ann);
    const bobCookie = await sessionCookie(bob);

    const noName = await upload("/api/styles", form({ file: new Blob([starry]), name: " " }), annCookie);
    expect(noName.status).toBe(400);
    expect((await noName.json()).field).toBe("name");

    const priv = (
      await (await upload("/api/styles", form({ file: new Blob([starry]), name: "Mine only" }), annCookie)).json()
    ).style;
    const pub = (
      await (
        await upload("/api/styles", form({ file: new Blob([starry]), name: "Shared", isPublic: "on" }), annCookie)
      ).json()
    ).style;
    expect(priv.isPublic).toBe(false);

    const bobList = await (await GET(request("/api/styles", { cookie: bobCookie }))).json();
    expect(bobList.mine).toEqual([]);
    expect(bobList.public.map((s: { id: string }) => s.id)).toContain(pub.id);
    expect(bobList.public.map((s: { id: string }) => s.id)).not.toContain(priv.id);
    expect((await GET(request("/api/styles"))).status).toBe(401);

    const json = (body: unknown, cookie: string) =>
      request("/x", {
        method: "PATCH",
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
        cookie,
      });
    expect((await PATCH(json({ isPublic: true }, bobCookie), params({ id: priv.id }))).status).toBe(404);
    expect((await PATCH(json({ name: "Hijacked" }, bobCookie), params({ id: pub.id }))).status).toBe(403);
    expect((await DELETE(request("/x", { method: "DELETE", cookie: bobCookie }), params({ id: pub.id }))).status).toBe(
      403,
    );
    const renamed = await PATCH(json({ name: "Shared sky", isPublic: false }, annCookie), params({ id: pub.id }));
    expect((await renamed.json()).style).toMatchObject({ name: "Shared sky", isPublic: false });

    expect((await DELETE(request("/x", { method: "DELETE", cookie: annCookie }), params({ id: priv.id }))).status).toBe(
      204,
    );
    expect(await env.db.style.count({ where: { id: priv.id } })).toBe(0);
    expect(await env.db.image.count({ where: { id: priv.imageId } })).toBe(1);
  });
});
