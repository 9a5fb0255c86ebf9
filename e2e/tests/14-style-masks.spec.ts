import type { Locator, Page } from "@playwright/test";
import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  canvasPixels,
  createInvite,
  createRoomWithImages,
  docScreenshot,
  expectLive,
  joinByInvite,
  newPerson,
  newUser,
  signUp,
  smallRunSettings,
  type CanvasPixels,
} from "../support/app.ts";

/** Drags the mouse along `points` (0–1 of the canvas) with the button down: one stroke. */
async function drag(page: Page, canvas: Locator, points: [number, number][]): Promise<void> {
  const box = (await canvas.boundingBox())!;
  const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 8 });
  await page.mouse.up();
}

/** The content photo drawn at the preview's size, as the page's canvas sees it. */
async function photoPixels(page: Page, size: { width: number; height: number }): Promise<CanvasPixels> {
  return page
    .getByTestId("mask-painter")
    .locator("img")
    .evaluate((el, { width, height }) => {
      const canvas = document.createElement("canvas");
      canvas.width = width;
      canvas.height = height;
      const ctx = canvas.getContext("2d")!;
      ctx.drawImage(el as HTMLImageElement, 0, 0, width, height);
      return { width, height, iteration: "", rgba: Array.from(ctx.getImageData(0, 0, width, height).data) };
    }, size);
}

/** Mean absolute difference per channel between two frames over the columns [x0, x1). */
function columnsDifference(a: CanvasPixels, b: CanvasPixels, x0: number, x1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = 0; y < a.height; y++) {
    for (let x = x0; x < x1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * a.width + x) * 4 + c;
        sum += Math.abs(a.rgba[i]! - b.rgba[i]!);
        n++;
      }
    }
  }
  return sum / n;
}

/** The overlay is tinted at 20 % of its width and clear at 80 %, half-way down. */
function leftOnlyTinted(canvas: Locator): Promise<boolean> {
  return canvas.evaluate((el) => {
    const c = el as HTMLCanvasElement;
    const alpha = (x: number) => c.getContext("2d")!.getImageData(x, c.height / 2, 1, 1).data[3]!;
    return alpha(Math.floor(c.width * 0.2)) > 80 && alpha(Math.floor(c.width * 0.8)) === 0;
  });
}

test("painting the left half for a style makes only the left half of the painting take that style", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  await signUp(page, newUser("Sonia"));
  await createRoomWithImages(page, "Left half starry");
  await smallRunSettings(page, { size: 64, iterations: 15 });

  const painter = page.getByTestId("mask-painter");
  const canvas = painter.getByTestId("mask-canvas");
  await expect(canvas).toBeVisible();
  // nothing painted: the one style covers the whole picture (no "areas … keep the photo" yet)
  await expect(painter.getByTestId("mask-coverage")).toHaveText(
    "Nothing is painted: the style covers the whole picture. Paint a region to keep it there.",
  );
  // a thin wall down the middle with the brush, then the bucket tipped on the left: the left half
  await page.getByTestId("mask-size").fill("0.02");
  await drag(page, canvas, [
    [0.5, 0],
    [0.5, 1],
  ]);
  await page.getByTestId("mask-tool-fill").click();
  const box = (await canvas.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.2, box.y + box.height * 0.5);
  // the overlay shows the region: tinted on the left, clear on the right
  await expect.poll(() => leftOnlyTinted(canvas)).toBe(true);
  await expect(page.getByTestId("mask-error")).toHaveCount(0);
  await expect(painter.getByTestId("mask-coverage")).toHaveText(
    "Each style covers only its painted region; areas no region covers keep the photo.",
  );

  // a viewer joining later sees the same region, and cannot paint
  const { context: viewerContext, page: viewer } = await newPerson(browser, baseURL);
  await signUp(viewer, newUser("Vera"));
  await joinByInvite(viewer, await createInvite(page, "viewer"));
  await expectLive(viewer);
  await expect.poll(() => leftOnlyTinted(viewer.getByTestId("mask-canvas"))).toBe(true);
  await expect(viewer.getByTestId("mask-tool-brush")).toBeDisabled();
  await expect(viewer.getByTestId("mask-undo")).toBeDisabled();
  await viewerContext.close();

  await painter.scrollIntoViewIfNeeded();
  await docScreenshot(page, "studio-style-masks", { height: 1180 });
  await attachScreenshot(page, testInfo, "mask painter");

  await page.getByRole("button", { name: "Start painting" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Finished", { timeout: 180_000 });
  const result = await canvasPixels(page);
  const photo = await photoPixels(page, result);
  const half = Math.floor(result.width / 2);
  const left = columnsDifference(result, photo, 0, half - 4);
  const right = columnsDifference(result, photo, half + 4, result.width);
  testInfo.annotations.push({
    type: "difference from the photo",
    description: `left ${left.toFixed(1)}, right ${right.toFixed(1)}`,
  });
  // the painted half moved to the style; the unpainted half kept the photo
  expect(left).toBeGreaterThan(1.5 * right);
});
