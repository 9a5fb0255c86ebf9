import { takeCspViolations } from "../support/csp.ts";
import { test, expect } from "../support/fixtures.ts";
import { createRoom, newUser, signUp } from "../support/app.ts";

const PAGES = [
  "/",
  "/signin",
  "/signup",
  "/gallery",
  "/styles",
  "/dashboard",
  "/results/no-such",
  "/invite/no-such",
  "/nope",
];

test("every page type carries the security headers, and no other site can frame them", async ({
  page,
  request,
  baseURL,
}) => {
  const user = newUser("Sonia");
  await signUp(page, user);
  const room = await createRoom(page, "Headers");
  for (const path of [...PAGES, `/rooms/${room.id}`]) {
    const res = await request.get(path, { maxRedirects: 0 });
    const headers = res.headers();
    expect(headers["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(headers["content-security-policy"], path).toMatch(/connect-src 'self' http:\/\/[^ ]+ ws:\/\//);
    expect(headers["x-content-type-options"], path).toBe("nosniff");
    expect(headers["x-frame-options"], path).toBe("DENY");
    expect(headers["referrer-policy"], path).toBe("same-origin");
    expect(headers["permissions-policy"], path).toContain("camera=()");
  }

  // framed by another page: Chromium refuses to render it (the load event waits for the frame)
  const framed = await page.context().newPage();
  const signInUrl = new URL("/signin", baseURL).href;
  await framed.setContent(`<iframe src="${signInUrl}" width="600" height="400"></iframe>`, { waitUntil: "load" });
  const frame = framed.frames().find((f) => f !== framed.mainFrame());
  expect(frame).toBeTruthy();
  const shown = await frame!.evaluate(() => document.body?.innerText ?? "").catch(() => "");
  expect(shown).not.toContain("Welcome back");
  // Chromium reports the refusal as a CSP violation: the one violation this journey expects
  const reported: string[] = [];
  await expect
    .poll(() => {
      reported.push(...takeCspViolations());
      return reported.some((v) => v.includes("frame-ancestors 'none'"));
    })
    .toBe(true);
  expect(reported.filter((v) => !v.includes("frame-ancestors"))).toEqual([]);
  await framed.close();
});

test("a signed-in visit with a hostile callbackUrl stays on the site", async ({ page, baseURL }) => {
  await signUp(page, newUser("Remi"));
  for (const vector of ["/%09/evil.example/phish", "/%5C/evil.example", "//evil.example", "/%0a/x"]) {
    const res = await page.goto(`/signin?callbackUrl=${vector}`);
    expect(res?.status(), vector).toBeLessThan(400);
    expect(new URL(page.url()).origin, vector).toBe(new URL(baseURL!).origin);
  }
  await page.goto(`/signin?callbackUrl=${encodeURIComponent("/\t/evil.example/phish")}`);
  expect(new URL(page.url()).pathname).toBe("/dashboard");
});

test("not found / not allowed pages answer real statuses; signed out, private pages redirect", async ({
  page,
  request,
}) => {
  await signUp(page, newUser("Nadia"));
  for (const path of ["/rooms/no-such-room", "/results/no-such-result", "/invite/no-such-token", "/nope"]) {
    const res = await page.request.get(path, { maxRedirects: 0 });
    expect([path, res.status()]).toEqual([path, 404]);
  }
  // `request` carries no cookies: signed out
  for (const path of ["/dashboard", "/styles", "/rooms/any"]) {
    const res = await request.get(path, { maxRedirects: 0 });
    expect([path, res.status()]).toEqual([path, 307]);
    expect(res.headers()["location"], path).toContain("/signin?callbackUrl=");
  }
});
