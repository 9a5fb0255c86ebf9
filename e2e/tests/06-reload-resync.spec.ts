import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  createRoomWithImages,
  expectLive,
  iterationCounter,
  lossPoints,
  newUser,
  paintedFrame,
  param,
  pixelDifference,
  signUp,
  smallRunSettings,
} from "../support/app.ts";

// Far more than the journey waits for (the server's limit): the run is cancelled once the reload
// has been checked. 240 finished first on a slow CI box (0.1 s/iter), and Cancel was gone.
const ITERATIONS = 2000; // not the room default (200): setting it must be an edit

test("reloading the studio during a run resyncs the run state and keeps receiving previews", async ({
  page,
}, testInfo) => {
  await signUp(page, newUser("Rosa"));
  await createRoomWithImages(page, "Reload me");
  await smallRunSettings(page, { size: 64, iterations: ITERATIONS });
  await page.getByRole("button", { name: "Start painting" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Painting", { timeout: 60_000 });

  // Let it get going, then reload in the middle of the run.
  const beforeFrame = await paintedFrame(page);
  await expect
    .poll(async () => (await iterationCounter(page))?.iteration ?? 0, { timeout: 60_000 })
    .toBeGreaterThanOrEqual(3);
  const before = (await iterationCounter(page))!;
  const pointsBefore = await lossPoints(page);
  expect(pointsBefore).toBeGreaterThanOrEqual(2);
  await attachScreenshot(page, testInfo, "before reload");

  await page.reload();
  await expectLive(page);

  // The room state comes back at once from the service: the run, its progress and its loss history.
  await expect(page.getByTestId("run-status")).toHaveText("Painting");
  const after = (await iterationCounter(page))!;
  expect(after.of).toBe(ITERATIONS);
  expect(after.iteration).toBeGreaterThanOrEqual(before.iteration);
  expect(await lossPoints(page)).toBeGreaterThanOrEqual(pointsBefore);
  await expect(param(page, "size")).toHaveValue("64");
  await expect(param(page, "iterations")).toHaveValue(String(ITERATIONS));
  await expect(page.getByRole("button", { name: "Cancel" })).toBeEnabled();
  // The old connection is gone: I am in the room once.
  await expect(page.getByTestId("presence-member")).toHaveCount(1);

  // Previews keep coming after the reload, and they keep changing.
  const firstAfter = await paintedFrame(page);
  expect(Number(firstAfter.iteration)).toBeGreaterThanOrEqual(Number(beforeFrame.iteration));
  // The canvas is drawn before its data-iteration label re-renders, so pixels read under one
  // label can already be the next frame's: compare with a frame at least two labels later.
  const laterAfter = await paintedFrame(page, { ...firstAfter, iteration: String(Number(firstAfter.iteration) + 1) });
  expect(
    pixelDifference(firstAfter, laterAfter),
    `the preview changed between iterations ${firstAfter.iteration} and ${laterAfter.iteration}`,
  ).toBeGreaterThan(0.2);
  await expect.poll(() => lossPoints(page)).toBeGreaterThan(pointsBefore);
  await expect.poll(async () => (await iterationCounter(page))!.iteration).toBeGreaterThan(after.iteration);
  await attachScreenshot(page, testInfo, "after reload, previews flowing");

  // Cancelling ends it for good (and frees the optimiser for the next journey).
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("Cancelled", { timeout: 30_000 });
  await expect(page.getByRole("button", { name: "Start again" })).toBeEnabled();
});
