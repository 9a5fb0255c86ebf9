/*
 * Steps the journeys share, written against what a person sees: labels, roles and the
 * data-testids the web app exposes. Each journey creates its own users and rooms with these,
 * so journeys never depend on each other.
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { Browser, BrowserContext, Locator, Page, TestInfo } from "@playwright/test";
import { watchCsp } from "./csp.ts";
import { expect } from "./fixtures.ts";
import { imagePath, repoRoot } from "./stack.ts";

export interface User {
  name: string;
  email: string;
  password: string;
}

/** A fresh account for one journey (unique per run, so reruns against a kept database work too). */
export function newUser(firstName: string): User {
  const tag = randomBytes(4).toString("hex");
  return {
    name: `${firstName} ${tag}`,
    email: `${firstName.toLowerCase()}-${tag}@example.test`,
    password: `Brush-${tag}-strokes!`,
  };
}

/**
 * Waits until React has hydrated the element (it attaches its props to the DOM node then):
 * typing into a server-rendered form before that is lost, because the controlled inputs'
 * state starts empty when hydration catches up.
 */
export async function waitForHydration(locator: Locator): Promise<void> {
  await expect(locator).toBeVisible();
  await expect
    .poll(() => locator.evaluate((el) => Object.keys(el).some((k) => k.startsWith("__reactProps"))), {
      message: "React hydrated the page",
    })
    .toBe(true);
}

export async function signUp(page: Page, user: User): Promise<void> {
  await page.goto("/signup");
  const form = page.getByTestId("signup-form");
  await waitForHydration(form);
  await form.getByLabel("Your name").fill(user.name);
  await form.getByLabel("Email").fill(user.email);
  await form.getByLabel("Password").fill(user.password);
  await expect(form.getByText("Strong enough.")).toBeVisible();
  await form.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL("**/dashboard");
  await expect(page.getByTestId("signed-in-as")).toContainText(user.name);
}

export async function signIn(page: Page, user: Pick<User, "email" | "password">): Promise<void> {
  await page.goto("/signin");
  const form = page.getByTestId("signin-form");
  await waitForHydration(form);
  await form.getByLabel("Email").fill(user.email);
  await form.getByLabel("Password").fill(user.password);
  await form.getByRole("button", { name: "Sign in" }).click();
}

export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in" })).toBeVisible();
}

/** A second (third…) person: a separate browser context, so separate cookies and session. */
export async function newPerson(
  browser: Browser,
  baseURL: string | undefined,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1366, height: 900 } });
  watchCsp(context);
  return { context, page: await context.newPage() };
}

export async function expectLive(page: Page): Promise<void> {
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "joined", { timeout: 30_000 });
}

/** Creates a room from the dashboard and waits until the studio has joined it live. */
export async function createRoom(page: Page, name: string): Promise<{ id: string; url: string }> {
  await page.goto("/dashboard");
  const form = page.getByTestId("create-room-form");
  await waitForHydration(form);
  await form.getByLabel("Room name").fill(name);
  await form.getByRole("button", { name: "Create room" }).click();
  await page.waitForURL(/\/rooms\/[^/?]+$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expectLive(page);
  const url = new URL(page.url());
  return { id: url.pathname.split("/").pop()!, url: url.pathname };
}

const CONTENT_IMAGE = imagePath("tubingen.jpg");
const STYLE_IMAGE = imagePath("starry_night.jpg");

/** Uploads a content photo through the studio's picker (the file input behind the drop zone). */
export async function uploadContent(
  page: Page,
  file: string | { name: string; mimeType: string; buffer: Buffer },
): Promise<void> {
  await page.getByTestId("content-upload").setInputFiles(file);
}

export async function uploadStyle(
  page: Page,
  file: string | { name: string; mimeType: string; buffer: Buffer },
): Promise<void> {
  const adding = page.getByTestId("add-style");
  if ((await adding.getAttribute("aria-expanded")) !== "true") await adding.click();
  await page.getByTestId("style-upload").setInputFiles(file);
}

/** A room with tubingen.jpg as content and starry_night.jpg as its one style, both visible. */
export async function createRoomWithImages(page: Page, name: string): Promise<{ id: string; url: string }> {
  const room = await createRoom(page, name);
  await uploadContent(page, CONTENT_IMAGE);
  await expect(page.getByRole("img", { name: "The content photo being painted" })).toBeVisible();
  await uploadStyle(page, STYLE_IMAGE);
  await expect(page.getByTestId("style-item")).toHaveCount(1);
  await expect(page.getByTestId("style-item")).toContainText("starry night");
  return room;
}

/** Makes an invite link for `role` from the studio's invite dialog. */
export async function createInvite(page: Page, role: "editor" | "viewer"): Promise<string> {
  await page.getByTestId("invite-open").click();
  const dialog = page.getByTestId("invite-dialog");
  await dialog.getByTestId(`invite-role-${role}`).check();
  await dialog.getByTestId("invite-create").click();
  const link = dialog.getByTestId("invite-link");
  await expect(link).toHaveValue(/\/invite\//);
  const url = await link.inputValue();
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  return url;
}

/**
 * Opens an invite link signed in and presses "Join" (opening it alone joins nothing: issue 26):
 * the page then goes into the room.
 */
export async function joinByInvite(page: Page, link: string): Promise<void> {
  await page.goto(link);
  const join = page.getByTestId("invite-join");
  await waitForHydration(join);
  await join.click();
  await page.waitForURL((url) => url.pathname.startsWith("/rooms/"));
}

/** The param field `field`'s input in the studio's settings panel. */
export function param(page: Page, field: string): Locator {
  return page.getByTestId(`param-${field}`);
}

/** The "changed by …" note under a field (a member's name, or "you"), whatever its capitalisation. */
export function changedBy(name: string): RegExp {
  return new RegExp(`^changed by ${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "i");
}

/** Types a number into a settings field and waits until the room confirmed it as mine. */
export async function setNumber(page: Page, field: string, value: number): Promise<void> {
  const input = param(page, field);
  await input.fill(String(value));
  await input.blur();
  await expect(input).toHaveValue(String(value));
  await expect(page.getByTestId(`changed-by-${field}`)).toHaveText(changedBy("you"));
}

/** The size slider (64 px, step 32): Home, then ArrowRight steps. */
async function setSize(page: Page, px: 64 | 96 | 128 | 192): Promise<void> {
  const slider = param(page, "size");
  await slider.focus();
  await slider.press("Home");
  for (let v = 64; v < px; v += 32) await slider.press("ArrowRight");
  await slider.blur();
  await expect(slider).toHaveValue(String(px));
  await expect(page.getByTestId("changed-by-size")).toHaveText(changedBy("you"));
}

/** Small, quick run settings: `size` px, `iterations`, starting from the content photo. */
export async function smallRunSettings(page: Page, opts: { size: 64 | 96 | 192; iterations: number }): Promise<void> {
  await setSize(page, opts.size);
  await setNumber(page, "iterations", opts.iterations);
  await param(page, "init").selectOption("content");
  await expect(page.getByTestId("changed-by-init")).toHaveText(changedBy("you"));
}

export interface CanvasPixels {
  width: number;
  height: number;
  iteration: string;
  rgba: number[];
}

/** The preview canvas's current pixels (getImageData) and the iteration it says it shows. */
export async function canvasPixels(page: Page): Promise<CanvasPixels> {
  return page.getByTestId("preview-canvas").evaluate((el) => {
    const canvas = el as HTMLCanvasElement;
    const ctx = canvas.getContext("2d")!;
    const rgba = Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
    return { width: canvas.width, height: canvas.height, iteration: canvas.dataset.iteration ?? "", rgba };
  });
}

/** Waits for a painted preview newer than `after` (by its iteration), or any painted one, and returns it. */
export async function paintedFrame(page: Page, after?: CanvasPixels | null): Promise<CanvasPixels> {
  let frame: CanvasPixels | null = null;
  await expect
    .poll(
      async () => {
        frame = await canvasPixels(page);
        return isPainted(frame) && (!after || Number(frame.iteration) > Number(after.iteration));
      },
      {
        message: `a painted preview after iteration ${after?.iteration ?? "none"}`,
        timeout: 60_000,
        intervals: [100, 200, 250],
      },
    )
    .toBe(true);
  return frame!;
}

/** Mean absolute difference per channel (0–255) between two frames of the same size. */
export function pixelDifference(a: CanvasPixels, b: CanvasPixels): number {
  if (a.width !== b.width || a.height !== b.height) return 255;
  let sum = 0;
  for (let i = 0; i < a.rgba.length; i++) sum += Math.abs(a.rgba[i]! - b.rgba[i]!);
  return sum / a.rgba.length;
}

/** A frame that is not blank: its pixels vary (a painted preview, not a flat fill). */
export function isPainted(p: CanvasPixels): boolean {
  if (p.width <= 4) return false;
  const lum = [];
  for (let i = 0; i < p.rgba.length; i += 4) lum.push(p.rgba[i]! + p.rgba[i + 1]! + p.rgba[i + 2]!);
  const mean = lum.reduce((s, v) => s + v, 0) / lum.length;
  const variance = lum.reduce((s, v) => s + (v - mean) ** 2, 0) / lum.length;
  return variance > 100;
}

/** The iteration counter's "i / n" as numbers. */
export async function iterationCounter(page: Page): Promise<{ iteration: number; of: number } | null> {
  const text = (await page.getByTestId("iteration-counter").textContent()) ?? "";
  const m = /(\d+)\s*\/\s*(\d+)/.exec(text);
  return m ? { iteration: Number(m[1]), of: Number(m[2]) } : null;
}

export async function lossPoints(page: Page): Promise<number> {
  return Number((await page.getByTestId("loss-chart").getAttribute("data-points")) ?? "0");
}

export async function attachScreenshot(
  page: Page,
  testInfo: TestInfo,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<void> {
  // Attached by path (not body), so results.json names the file instead of inlining base64.
  const file = testInfo.outputPath(`${name.replace(/[^\w-]+/g, "-").toLowerCase()}.png`);
  await page.screenshot({ path: file, fullPage: options.fullPage ?? false });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/**
 * The README's screenshots (docs/screenshots/<name>.png), taken from a real run. They are
 * written when missing or when ATELIER_E2E_UPDATE_SCREENSHOTS=1, so an ordinary `npm test`
 * leaves the committed files (and the git tree) alone.
 */
export async function docScreenshot(page: Page, name: string, options: { height?: number } = {}): Promise<void> {
  const file = path.join(repoRoot, "docs", "screenshots", `${name}.png`);
  if (existsSync(file) && process.env.ATELIER_E2E_UPDATE_SCREENSHOTS !== "1") return;
  mkdirSync(path.dirname(file), { recursive: true });
  const viewport = page.viewportSize();
  if (options.height && viewport) await page.setViewportSize({ width: viewport.width, height: options.height });
  await page.screenshot({ path: file });
  if (options.height && viewport) await page.setViewportSize(viewport);
}
