import type { Locator } from "@playwright/test";
import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  createRoomWithImages,
  docScreenshot,
  expectLive,
  newPerson,
  newUser,
  param,
  setNumber,
  signUp,
  smallRunSettings,
  waitForHydration,
} from "../support/app.ts";

const ITERATIONS = 10;

/** The value next to a label in a <dl> of settings. */
function definition(list: Locator, term: string): Locator {
  return list.locator("dt", { hasText: new RegExp(`^${term}$`) }).locator("xpath=following-sibling::dd[1]");
}

async function expectImageLoaded(img: Locator): Promise<void> {
  await expect(img).toBeVisible();
  await expect
    .poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0), {
      message: "the image loaded",
    })
    .toBe(true);
}

test("a public result is in the gallery with its params for visitors, can be liked, and remixes into a new room with the same settings", async ({
  page: pageA,
  browser,
  baseURL,
}, testInfo) => {
  const [a, c] = [newUser("Gabriele"), newUser("Camille")];
  const title = "Starry Tübingen";
  await signUp(pageA, a);
  const room = await createRoomWithImages(pageA, "For the gallery");
  await smallRunSettings(pageA, { size: 64, iterations: ITERATIONS });
  await setNumber(pageA, "styleWeight", 150);
  await setNumber(pageA, "seed", 7);

  await pageA.getByRole("button", { name: "Start painting" }).click();
  await expect(pageA.getByTestId("run-status")).toHaveText("Finished", { timeout: 120_000 });

  // A saves the finished image publicly.
  await pageA.getByRole("button", { name: "Save result" }).click();
  const dialog = pageA.getByTestId("save-dialog");
  await dialog.getByLabel("Title").fill(title);
  // private unless the author says otherwise
  const publicBox = dialog.getByRole("checkbox", { name: /Public/ });
  await expect(publicBox).not.toBeChecked();
  await publicBox.check();
  await dialog.getByRole("button", { name: "Save", exact: true }).click();
  await expect(dialog.getByRole("heading", { name: "Saved" })).toBeVisible();
  const resultUrl = (await dialog.getByRole("link", { name: "Open it" }).getAttribute("href"))!;
  expect(resultUrl).toMatch(/^\/results\/[^/]+$/);
  await dialog.getByRole("button", { name: "Back to the studio" }).click();
  await expect(pageA.getByTestId("saved-notice")).toContainText(`saved “${title}” (public)`);

  // A publishes the style too, so the gallery offers it as a filter
  const library = await pageA.context().newPage();
  await library.goto("/styles");
  const publish = library.getByRole("button", { name: "Publish starry night" });
  await waitForHydration(publish);
  await publish.click();
  await expect(library.getByRole("button", { name: "Unpublish starry night" })).toBeVisible();
  await library.close();

  // A signed-out visitor finds it in the gallery, with who made it, and opens it.
  const { context: visitorContext, page: visitor } = await newPerson(browser, baseURL);
  await visitor.goto("/gallery");
  await expect(visitor.getByRole("link", { name: "Sign in" })).toBeVisible();
  // the style filter's chips are named (under the thumbnail), not thumbnails alone
  await expect(
    visitor
      .getByRole("navigation", { name: "Filter by style" })
      .getByTestId("gallery-style-filter")
      .filter({ hasText: "starry night" })
      .first(),
  ).toBeVisible();
  // (the author's name is unique to this run of the journey; the title need not be)
  const card = visitor.getByTestId("result-card").filter({ hasText: title }).filter({ hasText: a.name });
  await expect(card).toHaveCount(1);
  const cardImage = card.getByRole("img", { name: `“${title}” by ${a.name}` });
  await expectImageLoaded(cardImage);
  // tubingen is a 4:3 landscape, and so is its painting: the card keeps that shape (no 4:5 portrait crop)
  const box = (await cardImage.boundingBox())!;
  expect(box.width / box.height).toBeCloseTo(4 / 3, 1);
  await docScreenshot(visitor, "gallery");
  await attachScreenshot(visitor, testInfo, "gallery (signed out)");

  await card.getByRole("link", { name: title, exact: true }).click();
  await visitor.waitForURL(`**${resultUrl}`);
  await expect(visitor.getByTestId("result-title")).toHaveText(title);
  await expectImageLoaded(visitor.getByRole("img", { name: `“${title}” by ${a.name}` }));
  const params = visitor.getByTestId("result-params");
  await expect(definition(params, "Size")).toHaveText("64 px (longest side)");
  await expect(definition(params, "Iterations")).toHaveText(String(ITERATIONS));
  await expect(definition(params, "Style weight")).toHaveText("150");
  await expect(definition(params, "Content weight")).toHaveText("5");
  await expect(definition(params, "Init")).toHaveText("content");
  await expect(definition(params, "Seed")).toHaveText("7");
  // every setting the run used is listed, colour control and style regions included
  await expect(definition(params, "Colour control")).toHaveText("Style's colours");
  await expect(definition(params, "Style regions")).toHaveText("none (styles everywhere)");
  await expect(definition(visitor.getByTestId("provenance"), "Iterations")).toHaveText(String(ITERATIONS));
  await expect(definition(visitor.getByTestId("provenance"), "Image")).toHaveText("64 × 48 px");
  await expect(visitor.getByTestId("like-count")).toHaveText("0");
  await attachScreenshot(visitor, testInfo, "result page (signed out)", { fullPage: true });

  // Liking needs an account: the visitor is sent to sign in, and comes back as Camille.
  await visitor.getByTestId("like-button").click();
  await visitor.waitForURL(/\/signin\?callbackUrl=/);
  await signUp(visitor, c);
  await visitor.goto(resultUrl);
  const like = visitor.getByRole("button", { name: /Like/ });
  await expect(like).toHaveAttribute("aria-pressed", "false");
  await like.click();
  await expect(like).toHaveAttribute("aria-pressed", "true");
  await expect(visitor.getByTestId("like-count")).toHaveText("1");
  await visitor.reload();
  await expect(visitor.getByTestId("like-count")).toHaveText("1");
  await expect(visitor.getByRole("button", { name: /Liked/ })).toHaveAttribute("aria-pressed", "true");
  await visitor.goto("/gallery?sort=liked");
  await expect(card.getByLabel("1 likes")).toBeVisible();

  // Remix: a new room of Camille's with the same images and settings.
  await visitor.goto(resultUrl);
  await visitor.getByRole("button", { name: "Remix in a new room" }).click();
  await visitor.waitForURL(/\/rooms\/[^/?]+$/);
  expect(new URL(visitor.url()).pathname).not.toBe(room.url);
  await expect(visitor.getByRole("heading", { level: 1 })).toHaveText(`Remix of ${title}`);
  await expect(visitor.getByTestId("signed-in-as")).toContainText(c.name);
  await expectLive(visitor);
  await expect(visitor.getByTestId("presence-member")).toHaveCount(1);
  await expect(param(visitor, "size")).toHaveValue("64");
  await expect(param(visitor, "iterations")).toHaveValue(String(ITERATIONS));
  await expect(param(visitor, "styleWeight")).toHaveValue("150");
  await expect(param(visitor, "contentWeight")).toHaveValue("5");
  await expect(param(visitor, "seed")).toHaveValue("7");
  await expect(param(visitor, "init")).toHaveValue("content");
  await expectImageLoaded(visitor.getByRole("img", { name: "The content photo being painted" }));
  await expect(visitor.getByTestId("style-item")).toHaveCount(1);
  await expectImageLoaded(visitor.getByTestId("style-item").getByRole("img"));
  await expect(visitor.getByRole("button", { name: "Start painting" })).toBeEnabled();
  await attachScreenshot(visitor, testInfo, "remixed room");

  await visitorContext.close();
});
