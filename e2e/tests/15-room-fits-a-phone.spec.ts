import { test, expect } from "../support/fixtures.ts";
import { createRoomWithImages, newUser, param, signUp, smallRunSettings } from "../support/app.ts";

const PHONE = { width: 390, height: 844 };

test("a room with 8 runs at 390 px: no sideways scroll, the preview and Start in the first screen, the history strip scrolls inside itself, settings one tap away", async ({
  page,
}) => {
  await signUp(page, newUser("Mina"));
  const name = "Eight tries";
  await createRoomWithImages(page, name);
  await smallRunSettings(page, { size: 64, iterations: 2 });
  const status = page.getByTestId("run-status");
  for (let n = 1; n <= 8; n++) {
    await page.getByTestId("run-start").click();
    await expect(page.getByTestId("iteration-counter")).toHaveText("2 / 2", { timeout: 60_000 });
    await expect(status).toHaveText("Finished", { timeout: 60_000 });
    await expect(page.getByTestId("history-item")).toHaveCount(n);
  }

  await page.setViewportSize(PHONE);
  await page.reload();
  await expect(page.getByTestId("tab-history")).toHaveText("History (8)");
  const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
  expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
  // the first screen: the preview and Start, whole
  for (const id of ["preview-canvas", "run-start"]) {
    const box = (await page.getByTestId(id).boundingBox())!;
    expect(box.y + box.height, `${id} in the first screen`).toBeLessThanOrEqual(PHONE.height);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
  }
  await expect(page.getByTestId("run-start")).toBeEnabled();

  // history: eight runs in a strip that scrolls by itself, the page still does not
  await page.getByTestId("tab-history").click();
  await expect(page.getByTestId("history-item")).toHaveCount(8);
  const strip = page.getByTestId("history-strip");
  const { scrollWidth, clientWidth } = await strip.evaluate((el) => ({
    scrollWidth: el.scrollWidth,
    clientWidth: el.clientWidth,
  }));
  expect(clientWidth).toBeLessThanOrEqual(PHONE.width);
  expect(scrollWidth).toBeGreaterThan(clientWidth);
  expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
  await expect(page.getByTestId("preview-canvas")).toBeHidden();

  // settings: one tap
  await page.getByTestId("tab-settings").click();
  await expect(param(page, "styleWeight")).toBeVisible();
  expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);
  await page.getByTestId("tab-canvas").click();
  await expect(page.getByTestId("preview-canvas")).toBeVisible();
});

test("the tab title shows the run's progress, then Done", async ({ page }) => {
  await signUp(page, newUser("Tomas"));
  const name = "Title watch";
  await createRoomWithImages(page, name);
  await smallRunSettings(page, { size: 64, iterations: 40 });
  await expect(page).toHaveTitle(`${name} · Atelier`);
  await page.getByTestId("run-start").click();
  const seen = new Set<string>();
  let dotted = false;
  const faviconHref = () =>
    page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.href ?? "");
  await expect
    .poll(
      async () => {
        const title = await page.title();
        seen.add(title);
        dotted ||= (await faviconHref()).startsWith("data:image/svg+xml");
        return dotted && /^([1-9]|[1-9]\d) % · Title watch$/.test(title);
      },
      { timeout: 90_000, intervals: [100] },
    )
    .toBe(true);
  await expect(page.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });
  await expect(page).toHaveTitle(`Done · ${name}`);
  // the favicon had a dot while painting and is the plain icon again now
  expect((await faviconHref()).startsWith("data:")).toBe(false);
  // every title seen on the way was one of the run's: a percentage, Queued, or the room's own
  for (const title of seen) expect(title).toMatch(/^(\d{1,2} %|Queued) · Title watch$|^Title watch · Atelier$/);
});
