import { test, expect } from "../support/fixtures.ts";
import { attachScreenshot, newUser, signIn, signOut, signUp } from "../support/app.ts";

test("sign up, sign out, sign in again; a wrong password shows an error", async ({ page }, testInfo) => {
  const user = newUser("Ada");

  await signUp(page, user);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(`Good to see you, ${user.name.split(" ")[0]}`);
  await attachScreenshot(page, testInfo, "dashboard after sign-up");

  await signOut(page);
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  // Signed out, the studio is closed: the dashboard sends me to sign in.
  await page.goto("/dashboard");
  await expect(page).toHaveURL(/\/signin/);

  await signIn(page, { email: user.email, password: `${user.password}x` });
  await expect(page.getByTestId("signin-error")).toHaveText(
    "That email and password do not match an account. Check them and try again.",
  );
  await expect(page).toHaveURL(/\/signin/);
  await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  await attachScreenshot(page, testInfo, "wrong password");

  await signIn(page, user);
  await page.waitForURL("**/dashboard");
  await expect(page.getByTestId("signed-in-as")).toContainText(user.name);
  // The session holds across a reload.
  await page.reload();
  await expect(page.getByTestId("signed-in-as")).toContainText(user.name);
});
