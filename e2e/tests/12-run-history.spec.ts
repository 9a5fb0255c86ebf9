import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  createInvite,
  createRoomWithImages,
  docScreenshot,
  expectLive,
  joinByInvite,
  newPerson,
  newUser,
  param,
  setNumber,
  signUp,
  smallRunSettings,
} from "../support/app.ts";

const ITERATIONS = 6;

test("run history: every run in a strip with what it changed; view one, restore its settings, continue from its image — and the room sees who did it", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  const iris = newUser("Iris");
  await signUp(page, iris);
  await createRoomWithImages(page, "Branching");
  await smallRunSettings(page, { size: 64, iterations: ITERATIONS });
  const editorLink = await createInvite(page, "editor");
  const { context, page: other } = await newPerson(browser, baseURL);
  await signUp(other, newUser("Jules"));
  await joinByInvite(other, editorLink);
  await expectLive(other);

  const status = page.getByTestId("run-status");
  const firstWeight = await param(page, "styleWeight").inputValue();
  await page.getByRole("button", { name: "Start painting" }).click();
  await expect(status).toHaveText("Finished", { timeout: 120_000 });

  const secondWeight = Number(firstWeight) * 10;
  await setNumber(page, "styleWeight", secondWeight);
  await page.getByRole("button", { name: "Start again" }).click();
  await expect(status).toHaveText("Finished", { timeout: 120_000 });

  // Both members see the strip, newest first, with what each run changed.
  for (const p of [page, other]) {
    const items = p.getByTestId("history-item");
    await expect(items).toHaveCount(2);
    await expect(items.nth(0).getByTestId("history-changes")).toHaveText(
      `Style weight ${firstWeight} → ${secondWeight}`,
    );
    await expect(items.nth(1).getByTestId("history-changes")).toHaveText("first run");
    await expect(items.nth(0).getByTestId("history-status")).toHaveText("Finished");
    await expect(items.nth(0).getByRole("img", { name: "Run #2" })).toBeVisible();
  }
  const first = page.getByTestId("history-item").nth(1);

  // View the first run: its image and its chart.
  await first.getByRole("button", { name: "View" }).click();
  const view = page.getByTestId("history-view");
  await expect(view.getByRole("heading", { name: /Run #1 by Iris/ })).toBeVisible();
  await expect
    .poll(() => view.getByTestId("history-view-image").evaluate((img) => (img as HTMLImageElement).naturalWidth))
    .toBeGreaterThan(0);
  await expect(view.getByTestId("history-chart")).toHaveAttribute("data-points", String(ITERATIONS));

  // Restore its settings: an ordinary co-edit, the other member sees the value and who did it.
  await first.getByRole("button", { name: "Restore settings" }).click();
  await expect(param(other, "styleWeight")).toHaveValue(firstWeight);
  await expect(param(page, "styleWeight")).toHaveValue(firstWeight);
  await expect(other.getByTestId("room-activity")).toHaveText(`${iris.name} restored the settings of run #1.`);
  await expect(page.getByTestId("room-activity")).toHaveText("You restored the settings of run #1.");

  // Continue from its image: a third run that starts from run #1's painting.
  await first.getByRole("button", { name: "Continue from image" }).click();
  await expect(other.getByTestId("room-activity")).toHaveText(
    `${iris.name} started a new run from the image of run #1.`,
  );
  await expect(status).toHaveText("Finished", { timeout: 120_000 });
  await expect(other.getByTestId("history-item")).toHaveCount(3);
  const third = other.getByTestId("history-item").nth(0);
  await expect(third).toContainText("from #1");
  await expect(third.getByTestId("history-changes")).toHaveText(`Style weight ${secondWeight} → ${firstWeight}`);
  await attachScreenshot(page, testInfo, "run history", { fullPage: true });
  await page.getByTestId("run-history").scrollIntoViewIfNeeded();
  await docScreenshot(page, "studio-run-history");
  await context.close();
});
