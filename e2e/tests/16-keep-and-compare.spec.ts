import { readFileSync } from "node:fs";
import { test, expect } from "../support/fixtures.ts";
import {
  changedBy,
  createInvite,
  createRoomWithImages,
  expectLive,
  joinByInvite,
  newPerson,
  newUser,
  param,
  setNumber,
  signUp,
  smallRunSettings,
} from "../support/app.ts";

test("save from history: any earlier run can be saved and downloaded, compared with its photo and another run; keys start and list shortcuts", async ({
  page,
  context,
}) => {
  await signUp(page, newUser("Wanda"));
  await createRoomWithImages(page, "Keepers");
  await smallRunSettings(page, { size: 64, iterations: 3 });
  const status = page.getByTestId("run-status");

  // run #1 started from the keyboard (Enter on the page, nothing focused)
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("Enter");
  await expect(status).toHaveText("Finished", { timeout: 120_000 });
  await setNumber(page, "styleWeight", 5000);
  await page.getByTestId("run-start").click();
  await expect(status).toHaveText("Finished", { timeout: 120_000 });
  const first = page.getByTestId("history-item").nth(1);
  await expect(page.getByTestId("history-item")).toHaveCount(2);

  // download run #1: a PNG named after the room and the run
  const [download] = await Promise.all([page.waitForEvent("download"), first.getByTestId("history-download").click()]);
  expect(download.suggestedFilename()).toBe("keepers-run-1.png");
  const bytes = readFileSync(await download.path());
  expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");

  // save run #1 (not the room's current run) as a result
  await first.getByTestId("history-save").click();
  const dialog = page.getByTestId("save-dialog");
  await dialog.getByTestId("save-title").fill("The first try");
  await dialog.getByTestId("save-submit").click();
  await dialog.getByTestId("open-saved-result").click();
  await expect(page.getByTestId("result-title")).toHaveText("The first try");
  await expect(page.getByTestId("provenance")).toContainText("3");
  // the painting at its real resolution (64 px wide, not stretched to the column), then zoomed 2×
  const shown = page.getByTestId("result-image");
  await expect.poll(() => shown.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(64);
  expect((await shown.boundingBox())!.width).toBeCloseTo(64, 0);
  await expect(page.getByTestId("result-scale")).toHaveText(/^64 × 48 px · shown at 100 %$/);
  await page.getByTestId("result-zoom-2").click();
  await expect(page.getByTestId("result-scale")).toHaveText(/shown at 200 %$/);
  expect((await shown.boundingBox())!.width).toBeCloseTo(128, 0);
  await expect(page.getByTestId("download-png")).toContainText("64 × 48");
  // copy link: the page's own address on the clipboard
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByTestId("copy-link").click();
  await expect(page.getByTestId("copy-link")).toHaveText("Link copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url());
  await page.goBack();
  await expectLive(page);

  // compare: photo ↔ painting, then run #1 against run #2
  await page.getByTestId("history-item").nth(1).getByRole("button", { name: "View" }).click();
  const view = page.getByTestId("history-view");
  await view.getByTestId("history-mode-photo").click();
  for (const img of ["compare-photo-before", "compare-photo-after"])
    await expect
      .poll(() => view.getByTestId(img).evaluate((el) => (el as HTMLImageElement).naturalWidth))
      .toBeGreaterThan(0);
  await view.getByTestId("history-mode-ab").click();
  await expect(view.getByTestId("compare-runs")).toContainText("Run #2");
  await expect(view.getByTestId("compare-runs")).toContainText("Run #1");
  // the wipe moves: at 0 the before image is fully clipped away
  await view.getByTestId("compare-runs-slider").fill("0");
  await expect(view.getByTestId("compare-runs-before")).toHaveAttribute("style", /inset\(0px 100% 0px 0px\)/);

  // "?" lists the shortcuts
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("?");
  await expect(page.getByTestId("shortcut-help")).toContainText("Ctrl+Z");
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("shortcut-help")).toBeHidden();
});

test("settings undo by two users: each undoes and redoes only their own edit, as a co-edit the other sees", async ({
  page,
  browser,
  baseURL,
}) => {
  const owner = newUser("Olga");
  await signUp(page, owner);
  await createRoomWithImages(page, "Undo together");
  const link = await createInvite(page, "editor");
  const { context, page: other } = await newPerson(browser, baseURL);
  const editor = newUser("Pavel");
  await signUp(other, editor);
  // opening the link alone joins nothing (issue 26): the editor presses "Join"
  await joinByInvite(other, link);
  await expectLive(other);

  const styleBefore = await param(page, "styleWeight").inputValue();
  const tvBefore = await param(page, "tvWeight").inputValue();
  await setNumber(page, "styleWeight", 1234);
  await setNumber(other, "tvWeight", 7);
  await expect(param(page, "tvWeight")).toHaveValue("7");

  // the owner's Ctrl+Z (outside a field) undoes the owner's edit, not the editor's later one
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press("Control+z");
  for (const p of [page, other]) {
    await expect(param(p, "styleWeight")).toHaveValue(styleBefore);
    await expect(param(p, "tvWeight")).toHaveValue("7");
  }
  await expect(other.getByTestId("changed-by-styleWeight")).toHaveText(changedBy(owner.name));

  // redo puts it back
  await page.keyboard.press("Control+Shift+z");
  await expect(param(other, "styleWeight")).toHaveValue("1234");

  // the editor's Undo button: the editor's own edit only
  await other.getByTestId("settings-undo").click();
  for (const p of [page, other]) {
    await expect(param(p, "tvWeight")).toHaveValue(tvBefore);
    await expect(param(p, "styleWeight")).toHaveValue("1234");
  }
  await expect(other.getByTestId("settings-undo")).toBeDisabled();

  // an edit someone else overwrote is not undone over their value
  await setNumber(page, "iterations", 77);
  await setNumber(other, "iterations", 88);
  await expect(param(page, "iterations")).toHaveValue("88");
  await page.getByTestId("settings-undo").click(); // skips iterations (Pavel's now), undoes styleWeight
  await expect(param(other, "styleWeight")).toHaveValue(styleBefore);
  await expect(param(other, "iterations")).toHaveValue("88");

  await context.close();
});
