import { test, expect } from "../support/fixtures.ts";
import {
  canvasPixels,
  createRoomWithImages,
  newUser,
  paintedFrame,
  pixelDifference,
  signUp,
  smallRunSettings,
  type CanvasPixels,
} from "../support/app.ts";

test("continue from image goes on from the painting: the new run's first frame is the source painting at its own size, not a blurry coarse copy", async ({
  page,
}) => {
  await signUp(page, newUser("Cleo"));
  await createRoomWithImages(page, "Going on");
  // 192 px coarse to fine: levels of 96, 136 and 192 px, one iteration each
  await smallRunSettings(page, { size: 192, iterations: 3 });
  await expect(page.getByTestId("param-multiscale")).toBeChecked();
  const status = page.getByTestId("run-status");
  await page.getByTestId("run-start").click();
  await expect(status).toHaveText("Finished", { timeout: 120_000 });
  const source = await paintedFrame(page);
  const sourceRun = await page.getByTestId("preview-canvas").getAttribute("data-run-id");
  expect([source.width, source.height]).toEqual([192, 144]);
  // the loss chart marks where the run moved up a level, and names its lines in words
  const chart = page.getByTestId("loss-chart");
  await expect(chart.getByTestId("loss-level-mark")).toHaveText(["level 2", "level 3"]);
  await expect(chart.locator("figcaption")).toContainText("Total loss");
  await expect(chart.locator("figcaption")).not.toContainText("relu");

  await page.getByTestId("history-item").nth(0).getByRole("button", { name: "Continue from image" }).click();
  // the first frame the new run shows
  let first: CanvasPixels | null = null;
  await expect
    .poll(
      async () => {
        const canvas = page.getByTestId("preview-canvas");
        const runId = await canvas.getAttribute("data-run-id");
        if (!runId || runId === sourceRun) return false;
        first = await canvasPixels(page);
        return true;
      },
      { timeout: 90_000, intervals: [50] },
    )
    .toBe(true);
  const frame = first!;
  expect([frame.width, frame.height], "the first frame is at the painting's own size").toEqual([192, 144]);
  const distance = pixelDifference(frame, source);
  test.info().annotations.push({ type: "first-frame distance", description: distance.toFixed(2) });
  expect(distance, "mean difference per channel to the source painting").toBeLessThan(12);
  await expect(status).toHaveText("Finished", { timeout: 120_000 });
});
