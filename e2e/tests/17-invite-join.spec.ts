import { test, expect } from "../support/fixtures.ts";
import { createInvite, createRoom, expectLive, newPerson, newUser, signUp, waitForHydration } from "../support/app.ts";

/*
 * Issue 26, items 10 and 5: opening an invite shows the room and asks "Join" (a POST), so a
 * link on another site cannot make a signed-in visitor a member; and a removed member's link no
 * longer brings them back.
 */
test("an invite asks before joining; Join makes them a member; once removed, their link is dead", async ({
  page: owner,
  browser,
  baseURL,
}) => {
  const [a, b] = [newUser("Judith"), newUser("Clara")];
  await signUp(owner, a);
  const room = await createRoom(owner, "Knock first");
  const link = await createInvite(owner, "editor");

  const { context, page: guest } = await newPerson(browser, baseURL);
  await signUp(guest, b);
  const opened = await guest.goto(link);
  expect(opened?.status()).toBe(200);
  const landing = guest.getByTestId("invite-landing");
  await expect(landing.getByRole("heading", { level: 1 })).toHaveText(`${a.name} invited you to Knock first`);
  await expect(landing.getByTestId("invite-role")).toContainText("as an editor");
  await expect(landing.getByRole("link", { name: "Sign in to join" })).toHaveCount(0);
  // opening the link joined nothing: the room is still closed to them, the owner sees nobody new
  expect((await guest.request.get(room.url, { maxRedirects: 0 })).status()).toBe(404);
  await expect(owner.getByTestId("presence-member")).toHaveCount(1);

  const join = landing.getByTestId("invite-join");
  await waitForHydration(join);
  await expect(join).toHaveText("Join");
  await join.click();
  await guest.waitForURL(`**${room.url}?joined=editor`);
  await expectLive(guest);
  const guestInOwnersBar = owner.getByTestId("presence-member").filter({ hasText: `${b.name}, editor` });
  await expect(guestInOwnersBar).toHaveCount(1);

  // the owner removes them (the members API, same-origin from the owner's page)
  const guestId = await guestInOwnersBar.getAttribute("data-user-id");
  const status = await owner.evaluate(
    async ([r, u]) => (await fetch(`/api/rooms/${r}/members/${u}`, { method: "DELETE" })).status,
    [room.id, guestId!] as const,
  );
  expect(status).toBe(204);

  // the link they joined with no longer works, for them or anyone
  const again = await guest.goto(link);
  expect(again?.status()).toBe(404);
  await expect(guest.getByTestId("invite-error")).toBeVisible();
  expect((await guest.request.get(room.url, { maxRedirects: 0 })).status()).toBe(404);
  await context.close();
});
