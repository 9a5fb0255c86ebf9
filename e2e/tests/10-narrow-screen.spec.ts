import { test, expect } from "../support/fixtures.ts";
import { createRoom, newUser, signUp, uploadContent } from "../support/app.ts";
import { imagePath } from "../support/stack.ts";

test.use({ viewport: { width: 390, height: 844 } });

test("at 390 px the room's full name and the settings fit: nothing is cut off, the page does not scroll sideways", async ({
  page,
}) => {
  await signUp(page, newUser("Giovanna"));
  const name = "Evening light over the Neckar, second attempt";
  const room = await createRoom(page, name);
  await expect(page).toHaveTitle(`${name} · Atelier`);
  const title = page.getByTestId("room-name");
  await expect(title).toHaveText(name);
  // the heading shows all of its text (wrapped, not clipped with an ellipsis)
  expect(await title.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  // the estimate and presets fit too, one tap away (the canvas comes first)
  await page.getByTestId("tab-settings").click();
  await expect(page.getByTestId("estimate-current")).toContainText("This run:");
  for (const preset of ["quick", "balanced", "full"]) {
    const box = (await page.getByTestId(`preset-${preset}`).boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  // before a photo the estimate is an upper bound (a square); with tubingen (4:3) it is for its shape
  const estimate = page.getByTestId("estimate-current");
  await expect(estimate).toContainText("at most (for a square photo)");
  await uploadContent(page, imagePath("tubingen.jpg"));
  await expect(page.getByRole("img", { name: "The content photo being painted" })).toBeVisible();
  await expect(estimate).not.toContainText("at most");
  await expect(estimate).toContainText(/This run: about \d+ (s|min)/);
  expect(room.url).toMatch(/^\/rooms\//);
});
