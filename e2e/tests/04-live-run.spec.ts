import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  canvasPixels,
  createInvite,
  createRoomWithImages,
  docScreenshot,
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

// long enough that a loaded machine's browser sees a frame before the last one (20 finished before the page painted any, at load 12)
const ITERATIONS = 60;

test("a small run streams changing previews to everyone in the room, the counter and loss chart grow, and it completes", async ({
  page: pageA,
  browser,
  baseURL,
}, testInfo) => {
  const [a, b] = [newUser("Claude"), newUser("Berthe")];
  await signUp(pageA, a);
  await createRoomWithImages(pageA, "Small and quick");
  await smallRunSettings(pageA, { size: 96, iterations: ITERATIONS });
  const viewerLink = await createInvite(pageA, "viewer");

  const { context: contextB, page: pageB } = await newPerson(browser, baseURL);
  await signUp(pageB, b);
  await joinByInvite(pageB, viewerLink);
  await expectLive(pageB);
  await expect(pageA.getByTestId("presence-member")).toHaveCount(2);

  // Nothing painted yet on either page.
  for (const page of [pageA, pageB]) {
    expect(isPainted(await canvasPixels(page))).toBe(false);
    await expect(page.getByTestId("run-status")).toHaveText("Not started");
  }

  await pageA.getByRole("button", { name: "Start painting" }).click();
  await expect(pageA.getByTestId("run-status")).toHaveText(/Painting|Waiting in the queue/);
  await expect(pageB.getByTestId("run-status")).toHaveText(/Painting|Waiting in the queue/);

  // Both canvases show a preview, then a different, later one.
  const firstA = await paintedFrame(pageA, null);
  const firstB = await paintedFrame(pageB, null);
  const progressEarly = await iterationCounter(pageA);
  const pointsEarly = await lossPoints(pageA);
  expect(progressEarly?.of).toBe(ITERATIONS);
  expect(firstA.width).toBe(96); // the longest side of tubingen (landscape) at size 96
  const laterA = await paintedFrame(pageA, firstA);
  const laterB = await paintedFrame(pageB, firstB);
  expect(
    pixelDifference(firstA, laterA),
    `A's preview changed between iterations ${firstA.iteration} and ${laterA.iteration}`,
  ).toBeGreaterThan(0.5);
  expect(
    pixelDifference(firstB, laterB),
    `B's preview changed between iterations ${firstB.iteration} and ${laterB.iteration}`,
  ).toBeGreaterThan(0.5);

  // The counter rises and the loss chart grows on both pages.
  await expect
    .poll(async () => (await iterationCounter(pageA))?.iteration ?? 0)
    .toBeGreaterThan(progressEarly!.iteration);
  await expect.poll(() => lossPoints(pageA)).toBeGreaterThan(pointsEarly);
  await expect.poll(() => lossPoints(pageB)).toBeGreaterThan(0);
  // Half-way: the README's studio screenshot.
  await expect
    .poll(async () => (await iterationCounter(pageA))?.iteration ?? 0, { timeout: 120_000 })
    .toBeGreaterThanOrEqual(ITERATIONS / 2);
  if ((await iterationCounter(pageA))!.iteration < ITERATIONS) {
    await docScreenshot(pageA, "studio-mid-run", { height: 1180 });
    await attachScreenshot(pageA, testInfo, "A mid-run");
    await attachScreenshot(pageB, testInfo, "B mid-run");
  }

  // It completes: both pages agree on the final state.
  for (const page of [pageA, pageB]) {
    await expect(page.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });
    await expect(page.getByTestId("iteration-counter")).toHaveText(`${ITERATIONS} / ${ITERATIONS}`);
    await expect(page.getByRole("progressbar", { name: "Run progress" })).toHaveAttribute("aria-valuenow", "100");
    await expect.poll(() => lossPoints(page)).toBeGreaterThanOrEqual(ITERATIONS - 1);
    // The canvas ends on the final image (what "Download PNG" saves), and says what it shows.
    await expect
      .soft(page.getByTestId("preview-canvas"), "the preview shows the final iteration")
      .toHaveAttribute("data-iteration", String(ITERATIONS), { timeout: 5000 });
    await expect
      .soft(page.getByTestId("preview-canvas"))
      .toHaveAccessibleName(/^Live preview at iteration \d+, 96 by 72 pixels$/, { timeout: 5000 });
  }
  await expect(pageA.getByRole("button", { name: "Start again" })).toBeEnabled();
  const finalA = await canvasPixels(pageA);
  const finalB = await canvasPixels(pageB);
  expect.soft(pixelDifference(finalA, finalB), "both pages show the same final image").toBeLessThan(1);
  await attachScreenshot(pageA, testInfo, "A finished");

  await contextB.close();
});
