import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  createInvite,
  createRoomWithImages,
  docScreenshot,
  expectLive,
  iterationCounter,
  joinByInvite,
  newPerson,
  newUser,
  paintedFrame,
  param,
  signUp,
  smallRunSettings,
} from "../support/app.ts";

const FULL_ITERATIONS = 12;

test("a 2×2 sweep streams its four thumbnails to both members, Promote starts the full run from the chosen cell, and its starter cancels the next sweep", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  const kim = newUser("Kim");
  await signUp(page, kim);
  await createRoomWithImages(page, "Sweep it");
  await smallRunSettings(page, { size: 64, iterations: FULL_ITERATIONS });
  const viewerLink = await createInvite(page, "viewer");
  const { context, page: viewer } = await newPerson(browser, baseURL);
  await signUp(viewer, newUser("Lou"));
  await joinByInvite(viewer, viewerLink);
  await expectLive(viewer);
  // viewers watch sweeps but cannot start one
  await expect(viewer.getByTestId("sweep-panel")).toBeVisible();
  await expect(viewer.getByTestId("sweep-form")).toHaveCount(0);

  const form = page.getByTestId("sweep-form");
  await form.getByTestId("sweep-first-param").selectOption("styleWeight");
  await form.getByTestId("sweep-first-values").fill("100, 100000");
  await form.getByTestId("sweep-second-param").selectOption("tvWeight");
  await form.getByTestId("sweep-second-values").fill("0, 1");
  await form.getByTestId("sweep-size").fill("48");
  await form.getByTestId("sweep-iterations").fill("10");
  // what it will take, before it starts: four single-level runs one after another
  await expect(form.getByTestId("sweep-estimate")).toContainText(
    /^4 small runs of 48 px, one after another: about \d+ (s|min)/,
  );
  await form.getByRole("button", { name: "Start sweep" }).click();

  for (const p of [page, viewer]) {
    const cells = p.getByTestId("sweep-cell");
    await expect(cells).toHaveCount(4);
    await expect(cells.nth(0)).toContainText("Style weight 100 · TV weight 0");
    await expect(cells.nth(3)).toContainText("Style weight 100000 · TV weight 1");
    // the axes head the grid: TV weight across, style weight down
    await expect(p.getByTestId("sweep-column-axis")).toHaveText("Style weight ↓ · TV weight →");
    await expect(p.getByTestId("sweep-column-head")).toHaveText(["0", "1"]);
    await expect(p.getByTestId("sweep-row-head")).toHaveText(["100", "100000"]);
    // every cell streams in and ends with its final image
    await expect(p.locator('[data-testid="sweep-cell"][data-status="completed"]')).toHaveCount(4, {
      timeout: 120_000,
    });
    await expect(p.locator('[data-testid="sweep-thumb"][data-final="true"]')).toHaveCount(4);
    for (let i = 0; i < 4; i++)
      await expect
        .poll(() =>
          cells
            .nth(i)
            .getByTestId("sweep-thumb")
            .evaluate((img) => (img as HTMLImageElement).naturalWidth),
        )
        .toBe(48);
  }
  await expect(viewer.getByRole("button", { name: "Promote" })).toHaveCount(0);
  await page.getByTestId("sweep-status").evaluate((el) => el.scrollIntoView({ block: "start" }));
  await attachScreenshot(page, testInfo, "sweep grid");
  await docScreenshot(page, "studio-sweep-grid");

  // Promote "Style weight 100000 · TV weight 0": its values become the room's, and the full run starts from its image.
  await page.getByTestId("sweep-cell").nth(2).getByRole("button", { name: "Promote" }).click();
  for (const p of [page, viewer]) {
    await expect(param(p, "styleWeight")).toHaveValue("100000");
    await expect(param(p, "tvWeight")).toHaveValue("0");
  }
  await expect(viewer.getByTestId("room-activity")).toHaveText(
    `${kim.name} promoted the sweep cell Style weight 100000 · TV weight 0: the room's settings are now its values, and a full run starts from its image.`,
  );
  await expect(viewer.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });
  expect(await iterationCounter(viewer)).toEqual({ iteration: FULL_ITERATIONS, of: FULL_ITERATIONS });
  const frame = await paintedFrame(viewer);
  expect(frame.width).toBe(64);

  // a second sweep, cancelled by its starter while it goes: only she has the Cancel button, both see it end
  await form.getByTestId("sweep-second-param").selectOption("");
  await form.getByTestId("sweep-iterations").fill("200");
  await form.getByRole("button", { name: "Start sweep" }).click();
  for (const p of [page, viewer]) await expect(p.getByTestId("sweep-cell")).toHaveCount(2);
  await expect(viewer.getByTestId("sweep-cancel")).toHaveCount(0);
  await page.getByTestId("sweep-cancel").click();
  await expect(page.getByTestId("sweep-notice")).toHaveText(/^Sweep cancelled: .*cancelled/);
  for (const p of [page, viewer])
    await expect(p.locator('[data-testid="sweep-cell"][data-status="cancelled"]')).toHaveCount(2, {
      timeout: 30_000,
    });
  await expect(page.getByTestId("sweep-cancel")).toHaveCount(0);
  await expect(form.getByRole("button", { name: "Start sweep" })).toBeEnabled();
  await context.close();
});
