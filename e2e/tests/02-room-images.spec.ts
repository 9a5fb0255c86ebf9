import { randomFillSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import sharp from "sharp";
import { test, expect } from "../support/fixtures.ts";
import { attachScreenshot, createRoomWithImages, newUser, signUp, uploadContent, uploadStyle } from "../support/app.ts";

// The upload caps of apps/web/src/server/uploads.ts (storage's DEFAULT_MAX_BYTES and
// DEFAULT_MAX_PIXELS; the e2e stack does not lower them by env).
const MAX_PIXELS = 40_000_000;
const MAX_BYTES = 20 * 1024 * 1024;

test("create a room with a content photo and a style; bad and over-size files are refused", async ({
  page,
}, testInfo) => {
  const user = newUser("Berthe");
  await signUp(page, user);
  const room = await createRoomWithImages(page, "Tübingen at night");
  await attachScreenshot(page, testInfo, "room with content and style");

  const contentImage = page.getByRole("img", { name: "The content photo being painted" });
  const contentSrc = await contentImage.getAttribute("src");

  // A text file dressed up as a JPEG: refused by its content, not its name.
  const fakeJpeg = testInfo.outputPath("holiday.jpg");
  writeFileSync(fakeJpeg, "this is not a picture, just some words in a file called holiday.jpg\n");
  await uploadContent(page, fakeJpeg);
  await expect(page.getByTestId("content-upload-error")).toHaveText("Only JPEG, PNG and WebP images can be used.");
  await attachScreenshot(page, testInfo, "text file refused");

  // Over the pixel cap: 7000×6000 = 42 MP, yet a small file (a flat colour compresses well).
  const [w, h] = [7000, 6000];
  expect(w * h).toBeGreaterThan(MAX_PIXELS);
  const huge = await sharp({ create: { width: w, height: h, channels: 3, background: { r: 40, g: 90, b: 160 } } })
    .jpeg({ quality: 50 })
    .toBuffer();
  expect(huge.byteLength).toBeLessThan(MAX_BYTES);
  const panorama = testInfo.outputPath("panorama.jpg");
  writeFileSync(panorama, huge);
  await uploadContent(page, panorama);
  await expect(page.getByTestId("content-upload-error")).toHaveText(
    "The image is 7000×6000 (42.0 megapixels); the limit is 40 megapixels.",
  );
  await attachScreenshot(page, testInfo, "over-size image refused");

  // Over the byte cap, as a style: 2700×2700 of noise is a PNG of ~21.9 MB (incompressible).
  const side = 2700;
  const noise = randomFillSync(Buffer.alloc(side * side * 3));
  const heavy = await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  expect(heavy.byteLength).toBeGreaterThan(MAX_BYTES);
  // (from a file: a 22 MB buffer would crawl through the browser protocol as base64)
  const bigCanvas = testInfo.outputPath("big-canvas.png");
  writeFileSync(bigCanvas, heavy);
  await uploadStyle(page, bigCanvas);
  await expect(page.getByTestId("style-upload-error")).toHaveText("The file is too large; the limit is 20.0 MB.");
  await attachScreenshot(page, testInfo, "over-size file refused");

  // Nothing changed: the same photo and the one style, also after a reload.
  await expect(contentImage).toHaveAttribute("src", contentSrc!);
  await expect(page.getByTestId("style-item")).toHaveCount(1);
  await page.reload();
  await expect(page.getByRole("img", { name: "The content photo being painted" })).toHaveAttribute("src", contentSrc!);
  await expect(page.getByTestId("style-item")).toHaveCount(1);
  await expect(page.getByTestId("style-item")).toContainText("starry night");

  // The room is on my dashboard with its images.
  await page.goto("/dashboard");
  await expect(page.getByRole("link", { name: "Open room Tübingen at night" })).toHaveAttribute("href", room.url);
});
