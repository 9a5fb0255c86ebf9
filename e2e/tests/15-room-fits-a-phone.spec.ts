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

/** "~12 s", "~1 min 5 s", "~2 min" (the studio's "Time left") in seconds; null for "–". */
function secondsOf(text: string): number | null {
  const m = /^~(?:(\d+) min)? ?(?:(\d+) s)?$/.exec(text.trim());
  if (!m || (!m[1] && !m[2])) return null;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

test("the tab title shows the run's progress, then Done; 'time left' at half-way is within ±50 % of the time it really took", async ({
  page,
}) => {
  await signUp(page, newUser("Tomas"));
  const name = "Title watch";
  await createRoomWithImages(page, name);
  // three levels (96, 136, 192 px): at half-way the finest level, 2× the pixels of the one
  // running then, is still ahead, so a figure that ignores the levels to come is far off
  const iterations = 48;
  await smallRunSettings(page, { size: 192, iterations });
  await expect(page).toHaveTitle(`${name} · Atelier`);
  await page.getByTestId("run-start").click();
  const seen = new Set<string>();
  let dotted = false;
  let progressTitle = false;
  let half: { at: number; iteration: number; said: string; seconds: number | null } | null = null;
  // what the studio said as the run went (iteration, time left, s/iter, seconds since Start), for the report
  const said: string[] = [];
  const startedAt = Date.now();
  const faviconHref = () =>
    page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel~="icon"]')?.href ?? "");
  await expect
    .poll(
      async () => {
        const title = await page.title();
        seen.add(title);
        if (!progressTitle) {
          dotted ||= (await faviconHref()).startsWith("data:image/svg+xml");
          progressTitle = dotted && /^([1-9]|[1-9]\d) % · Title watch$/.test(title);
        }
        const [counter, eta, speed] = await Promise.all([
          page.getByTestId("iteration-counter").innerText(),
          page.getByTestId("run-eta").innerText(),
          page.getByTestId("seconds-per-iteration").innerText(),
        ]);
        const iteration = Number(/^(\d+) \//.exec(counter)?.[1] ?? 0);
        const line = `${iteration} ${eta} ${speed}`;
        if (!said.at(-1)?.startsWith(line)) said.push(`${line} @${((Date.now() - startedAt) / 1000).toFixed(1)}`);
        if (!half && iteration >= iterations / 2)
          half = { at: Date.now(), iteration, said: eta, seconds: secondsOf(eta) };
        return (await page.getByTestId("run-status").innerText()).trim();
      },
      { timeout: 170_000, intervals: [100] },
    )
    .toBe("Finished");
  const took = (Date.now() - half!.at) / 1000;
  expect(progressTitle, `titles seen: ${[...seen].join(" | ")}`).toBe(true);
  await expect(page).toHaveTitle(`Done · ${name}`);
  // the favicon had a dot while painting and is the plain icon again now
  expect((await faviconHref()).startsWith("data:")).toBe(false);
  // every title seen on the way was one of the run's: a percentage, Queued, or the room's own
  for (const title of seen) expect(title).toMatch(/^(\d{1,2} %|Queued|Done) · Title watch$|^Title watch · Atelier$/);

  // "time left" read at half-way against the time the run really took from then
  const report = `at ${half!.iteration} / ${iterations} it said "${half!.said}"; it took ${took.toFixed(1)} s`;
  console.log(`[time left] ${report}\n  ${said.join(" | ")}`);
  expect(half!.seconds, report).not.toBeNull();
  expect(half!.seconds!, report).toBeGreaterThanOrEqual(took * 0.5);
  expect(half!.seconds!, report).toBeLessThanOrEqual(took * 1.5);
});
