/**
 * Issue 26, item 11: per-account upload quotas, through the real upload routes and database —
 * uploads per hour (429 with Retry-After) and total bytes per account (413), with clear
 * messages; a refused upload stores nothing; other accounts are not affected.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { uploadQuotaRefusal } from "@/server/uploads";
import { createUser, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const imagesDir = process.env.ATELIER_IMAGES ?? path.join(repoRoot, "..", "shared", "images");
const image = (file: string) => new Blob([readFileSync(path.join(imagesDir, file))], { type: "image/jpeg" });

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
});
afterAll(async () => env.cleanup());
afterEach(() => {
  delete process.env.ATELIER_UPLOADS_PER_HOUR;
  delete process.env.ATELIER_UPLOAD_QUOTA_MB;
});

async function upload(file: string, cookie: string, route: "/api/images" | "/api/styles" = "/api/images") {
  const body = new FormData();
  body.append("file", image(file), file);
  if (route === "/api/styles") body.append("name", file);
  const handler =
    route === "/api/styles" ? await import("@/app/api/styles/route") : await import("@/app/api/images/route");
  return handler.POST(request(route, { method: "POST", body, cookie }));
}

describe("upload quotas", () => {
  it("uploadQuotaRefusal (pure): within the total, at it, and a file that does not fit", () => {
    const MB = 1024 * 1024;
    expect(uploadQuotaRefusal(0, MB, MB)).toBeNull();
    expect(uploadQuotaRefusal(MB, 0, MB)).toMatch(/1\.0 MB of the 1\.0 MB/);
    expect(uploadQuotaRefusal(MB / 2, MB, MB)).toMatch(/this file \(1\.0 MB\) does not fit/);
  });

  it("uploads per account per hour: the next one is refused with 429 and Retry-After, nothing stored", async () => {
    process.env.ATELIER_UPLOADS_PER_HOUR = "3";
    const ann = await createUser(env.db, "Ann");
    const cookie = await sessionCookie(ann);
    for (const file of ["woman-with-hat-matisse.jpg", "seated-nude.jpg", "shipwreck.jpg"])
      expect([file, (await upload(file, cookie)).status]).toEqual([file, 201]);
    const images = await env.db.image.count({ where: { ownerId: ann.id } });
    const refused = await upload("the_scream.jpg", cookie, "/api/styles");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3000);
    expect(await refused.json()).toEqual({
      error: expect.stringMatching(/you uploaded 3 images in the last hour.*try again in \d+ minutes/),
      field: "file",
    });
    expect(await env.db.image.count({ where: { ownerId: ann.id } })).toBe(images);
    expect(await env.db.style.count({ where: { ownerId: ann.id } })).toBe(0);
    // another account has its own count
    const bo = await createUser(env.db, "Bo");
    expect((await upload("the_scream.jpg", await sessionCookie(bo))).status).toBe(201);
  });

  it("total bytes per account: a file that would go over is refused with 413 and the figures", async () => {
    process.env.ATELIER_UPLOAD_QUOTA_MB = "1";
    const cy = await createUser(env.db, "Cy");
    const cookie = await sessionCookie(cy);
    // 406 + 315 + 217 KB fit in 1 MB
    for (const file of ["tubingen.jpg", "starry_night.jpg", "the_scream.jpg"])
      expect([file, (await upload(file, cookie)).status]).toEqual([file, 201]);
    const refused = await upload("shipwreck.jpg", cookie);
    expect(refused.status).toBe(413);
    expect(await refused.json()).toEqual({
      error: expect.stringMatching(/your uploads take 0\.9 MB of the 1\.0 MB .*this file \(0\.1 MB\) does not fit/),
      field: "file",
    });
    expect(await env.db.image.count({ where: { ownerId: cy.id } })).toBe(3);
  });
});
