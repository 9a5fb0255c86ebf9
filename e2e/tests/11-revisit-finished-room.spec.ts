import { readFile } from "node:fs/promises";
import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  canvasPixels,
  createInvite,
  createRoomWithImages,
  expectLive,
  isPainted,
  iterationCounter,
  joinByInvite,
  lossPoints,
  newPerson,
  newUser,
  paintedFrame,
  pixelDifference,
  signUp,
  smallRunSettings,
} from "../support/app.ts";

const ITERATIONS = 8;

/** Width and height from a PNG's IHDR chunk (bytes 16–23), after checking its signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).toString("hex"), "a PNG signature").toBe("89504e470d0a1a0a");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test("a finished room keeps its painting: reopening it, joining after the end and the dashboard show it, and Download works", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  await signUp(page, newUser("Gwen"));
  const room = await createRoomWithImages(page, "Nothing vanishes");
  await smallRunSettings(page, { size: 64, iterations: ITERATIONS });
  const viewerLink = await createInvite(page, "viewer");

  // Nothing painted yet: nothing to download.
  await expect(page.getByTestId("download-png")).toBeDisabled();

  await page.getByRole("button", { name: "Start painting" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });
  await expect.poll(() => lossPoints(page)).toBe(ITERATIONS);
  await expect(page.getByTestId("download-png")).toBeEnabled();
  // the worker's last frame is the final image (iteration = the run's last; WebP, so lossy)
  await expect(page.getByTestId("preview-canvas")).toHaveAttribute("data-iteration", String(ITERATIONS));
  const finalFrame = await canvasPixels(page);
  expect(isPainted(finalFrame)).toBe(true);

  // Reopening the room: the painting, the chart and the counter are back, and Download gives the PNG.
  await page.goto("/dashboard");
  await page.goto(room.url);
  await expectLive(page);
  await expect(page.getByTestId("run-status")).toHaveText("Finished");
  expect(await iterationCounter(page)).toEqual({ iteration: ITERATIONS, of: ITERATIONS });
  const reopened = await paintedFrame(page);
  expect(reopened.iteration).toBe(String(ITERATIONS));
  // the reopened room draws the stored PNG: the same picture as the live WebP frame, up to WebP's loss
  expect(pixelDifference(reopened, finalFrame), "the reopened room shows the final image").toBeLessThan(6);
  await expect.poll(() => lossPoints(page)).toBe(ITERATIONS);
  await expect(page.getByTestId("preview-stale")).toHaveCount(0);
  await attachScreenshot(page, testInfo, "reopened finished room");

  const downloading = page.waitForEvent("download");
  await page.getByTestId("download-png").click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe("nothing-vanishes.png");
  const png = await readFile(await download.path());
  expect(pngSize(png)).toEqual({ width: finalFrame.width, height: finalFrame.height });
  // …and the button said which size it gives
  await expect(page.getByTestId("download-size")).toHaveText(`· ${finalFrame.width} × ${finalFrame.height}`);

  // Someone joining after the end sees the same painting and chart.
  const { context, page: late } = await newPerson(browser, baseURL);
  await signUp(late, newUser("Hugo"));
  await joinByInvite(late, viewerLink);
  await expectLive(late);
  await expect(late.getByTestId("run-status")).toHaveText("Finished");
  const lateFrame = await paintedFrame(late);
  expect(pixelDifference(lateFrame, reopened), "a late joiner sees the same stored image").toBeLessThan(0.5);
  await expect.poll(() => lossPoints(late)).toBe(ITERATIONS);
  await context.close();

  // The dashboard's room card shows the latest painting, not the photo.
  await page.goto("/dashboard");
  const card = page.getByTestId("room-item").filter({ hasText: "Nothing vanishes" });
  const painting = card.getByTestId("room-latest-painting").getByRole("img");
  await expect(painting).toHaveAccessibleName("Latest painting of Nothing vanishes");
  await expect.poll(() => painting.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);

  // Starting again: the status goes to "Starting…", never back through the old run's "Finished".
  await page.goto(room.url);
  await expectLive(page);
  await paintedFrame(page);
  await page.getByTestId("run-status").evaluate((el) => {
    const seen: string[] = [];
    (window as unknown as { statusSeen: string[] }).statusSeen = seen;
    new MutationObserver(() => seen.push(el.textContent ?? "")).observe(el, {
      childList: true,
      characterData: true,
      subtree: true,
    });
  });
  await page.getByRole("button", { name: "Start again" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });
  const seen = await page.evaluate(() => (window as unknown as { statusSeen: string[] }).statusSeen);
  expect(seen[0], `status after the click (seen: ${seen.join(" → ")})`).toBe("Starting…");
  const firstOfNewRun = seen.findIndex((s) => s === "Queued" || s === "Painting");
  expect(firstOfNewRun, `the new run showed up (seen: ${seen.join(" → ")})`).toBeGreaterThan(0);
  expect(seen.slice(0, firstOfNewRun).every((s) => s === "Starting…")).toBe(true);
});
