import { test, expect } from "../support/fixtures.ts";
import {
  createInvite,
  createRoom,
  expectLive,
  newPerson,
  newUser,
  signOut,
  signUp,
  waitForHydration,
} from "../support/app.ts";

test("a signed-out visitor opening an invite sees the room, the inviter and the role, signs in (or up) and comes back into the room", async ({
  page: owner,
  browser,
  baseURL,
}) => {
  const [a, b, c] = [newUser("Sofonisba"), newUser("Orazio"), newUser("Lavinia")];
  await signUp(owner, a);
  const room = await createRoom(owner, "Open door");
  const editorLink = await createInvite(owner, "editor");
  const viewerLink = await createInvite(owner, "viewer");
  const invitePath = (link: string) => new URL(link).pathname;

  // B has an account but is signed out: the link shows where it leads, then sign-in, then the room.
  const { context: contextB, page: pageB } = await newPerson(browser, baseURL);
  await signUp(pageB, b);
  await signOut(pageB);
  await pageB.goto(editorLink);
  const landingB = pageB.getByTestId("invite-landing");
  await expect(landingB.getByRole("heading", { level: 1 })).toHaveText(`${a.name} invited you to Open door`);
  await expect(landingB.getByTestId("invite-role")).toContainText("as an editor");
  await expect(pageB).toHaveTitle(/^Join Open door/);
  await landingB.getByRole("link", { name: "Sign in to join" }).click();
  await pageB.waitForURL((url) => url.pathname === "/signin");
  expect(new URL(pageB.url()).searchParams.get("callbackUrl")).toBe(invitePath(editorLink));
  const signIn = pageB.getByTestId("signin-form");
  await waitForHydration(signIn);
  await signIn.getByLabel("Email").fill(b.email);
  await signIn.getByLabel("Password").fill(b.password);
  await signIn.getByRole("button", { name: "Sign in" }).click();
  // back on the invite, now signed in: it asks before joining
  await pageB.waitForURL((url) => url.pathname === invitePath(editorLink));
  await pageB.getByTestId("invite-join").click();
  await pageB.waitForURL(`**${room.url}?joined=editor`);
  await expectLive(pageB);

  // C has no account: from the landing to sign-up, keeping the way back to the invite.
  const { context: contextC, page: pageC } = await newPerson(browser, baseURL);
  await pageC.goto(viewerLink);
  const landingC = pageC.getByTestId("invite-landing");
  await expect(landingC.getByTestId("invite-room")).toHaveText("Open door");
  await expect(landingC.getByTestId("invite-role")).toContainText("as a viewer");
  await landingC.getByRole("link", { name: "Create an account" }).click();
  await pageC.waitForURL((url) => url.pathname === "/signup");
  expect(new URL(pageC.url()).searchParams.get("callbackUrl")).toBe(invitePath(viewerLink));
  const signUpForm = pageC.getByTestId("signup-form");
  await waitForHydration(signUpForm);
  await signUpForm.getByLabel("Your name").fill(c.name);
  await signUpForm.getByLabel("Email").fill(c.email);
  await signUpForm.getByLabel("Password").fill(c.password);
  await expect(signUpForm.getByText("Strong enough.")).toBeVisible();
  await signUpForm.getByRole("button", { name: "Create account" }).click();
  await pageC.waitForURL((url) => url.pathname === invitePath(viewerLink));
  await pageC.getByTestId("invite-join").click();
  await pageC.waitForURL(`**${room.url}?joined=viewer`);
  await expectLive(pageC);

  // the owner sees both, with the invites' roles
  const members = owner.getByTestId("presence-member");
  await expect(members.filter({ hasText: `${b.name}, editor` })).toHaveCount(1);
  await expect(members.filter({ hasText: `${c.name}, viewer` })).toHaveCount(1);
  await contextB.close();
  await contextC.close();
});

test("a dead invite link tells a signed-out visitor so, without asking them to sign in first", async ({ page }) => {
  await page.goto("/invite/no-such-invite-token");
  await expect(page.getByTestId("invite-error")).toBeVisible();
  await expect(page).toHaveTitle(/^(Invite link not valid|Page not found) · Atelier$/);
});
