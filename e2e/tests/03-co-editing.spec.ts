import { test, expect } from "../support/fixtures.ts";
import {
  attachScreenshot,
  changedBy,
  createInvite,
  createRoom,
  expectLive,
  joinByInvite,
  newPerson,
  newUser,
  param,
  setNumber,
  signUp,
} from "../support/app.ts";

test("an invited editor appears in the presence bar and co-edits the style weight; a viewer cannot change it", async ({
  page: pageA,
  browser,
  baseURL,
}, testInfo) => {
  const [a, b, v] = [newUser("Artemisia"), newUser("Bruno"), newUser("Vera")];
  await signUp(pageA, a);
  const room = await createRoom(pageA, "Two brushes");
  const editorLink = await createInvite(pageA, "editor");
  const viewerLink = await createInvite(pageA, "viewer");
  expect(new URL(editorLink).origin).toBe(baseURL);

  // B opens the editor invite in another browser, joins, and lands in the studio as an editor.
  const { context: contextB, page: pageB } = await newPerson(browser, baseURL);
  await signUp(pageB, b);
  await joinByInvite(pageB, editorLink);
  await pageB.waitForURL(`**${room.url}?joined=editor`);
  await expect(pageB.getByRole("status").filter({ hasText: "You joined this room as an editor." })).toBeVisible();
  await expectLive(pageB);

  // Both are in both presence bars.
  const membersA = pageA.getByTestId("presence-member");
  await expect(membersA).toHaveCount(2);
  await expect(membersA.filter({ hasText: `${b.name}, editor` })).toHaveCount(1);
  await expect(membersA.filter({ hasText: `${a.name} (you), owner` })).toHaveCount(1);
  await expect(pageB.getByTestId("presence-member").filter({ hasText: `${b.name} (you), editor` })).toHaveCount(1);
  await expect(pageB.getByTestId("presence-member").filter({ hasText: `${a.name}, owner` })).toHaveCount(1);

  // B focuses the style weight: A sees B editing it, then the new value with B as its author.
  await expect(param(pageA, "styleWeight")).toHaveValue("100");
  await param(pageB, "styleWeight").focus();
  await expect(pageA.getByTestId("field-styleWeight")).toHaveAttribute("data-editing-by", b.name);
  await expect(membersA.filter({ hasText: `${b.name}, editor — editing Style weight` })).toHaveCount(1);
  await attachScreenshot(pageA, testInfo, "A sees B editing the style weight");
  await setNumber(pageB, "styleWeight", 250);
  await expect(param(pageA, "styleWeight")).toHaveValue("250");
  await expect(pageA.getByTestId("changed-by-styleWeight")).toHaveText(changedBy(b.name));
  await expect(pageA.getByTestId("field-styleWeight")).not.toHaveAttribute("data-editing-by", /./);
  await attachScreenshot(pageA, testInfo, "A sees B's new style weight");

  // A viewer watches: the same value, but the field is locked. (Who changed a field is not part
  // of the room snapshot a late joiner gets, so the viewer sees no "changed by" note.)
  const { context: contextV, page: pageV } = await newPerson(browser, baseURL);
  await signUp(pageV, v);
  await joinByInvite(pageV, viewerLink);
  await pageV.waitForURL(`**${room.url}?joined=viewer`);
  await expectLive(pageV);
  // one banner says both (joined, and as a viewer), and no faded Start or Save to press
  await expect(pageV.getByTestId("viewer-note")).toHaveText(
    /^You joined this room as a viewer: settings and runs are in the editors’ hands\.$/,
  );
  await expect(pageV.getByRole("status").filter({ hasText: "You joined this room as a viewer." })).toHaveCount(0);
  await expect(pageV.getByTestId("run-start")).toHaveCount(0);
  await expect(pageV.getByTestId("save-result")).toHaveCount(0);
  await expect(membersA).toHaveCount(3);
  await expect(membersA.filter({ hasText: `${v.name}, viewer` })).toHaveCount(1);
  await expect(param(pageV, "styleWeight")).toHaveValue("250");
  await expect(param(pageV, "styleWeight")).toBeDisabled();
  await expect(pageV.getByTestId("invite-open")).toHaveCount(0);
  await attachScreenshot(pageV, testInfo, "viewer: settings locked");

  // Even with the lock picked in the page, the room refuses a viewer's edit and nothing changes.
  await param(pageV, "styleWeight").evaluate((el) => ((el as HTMLInputElement).disabled = false));
  await param(pageV, "styleWeight").fill("999");
  await expect(pageV.getByTestId("room-error")).toContainText("a viewer cannot change this room");
  await param(pageV, "styleWeight").blur();
  await expect(param(pageV, "styleWeight")).toHaveValue("250");
  await expect(param(pageA, "styleWeight")).toHaveValue("250");
  await expect(param(pageB, "styleWeight")).toHaveValue("250");
  await expect(pageA.getByTestId("changed-by-styleWeight")).toHaveText(changedBy(b.name));

  // The co-edited value was persisted: a fresh load of the room shows it.
  await pageA.reload();
  await expectLive(pageA);
  await expect(param(pageA, "styleWeight")).toHaveValue("250");

  await contextB.close();
  await contextV.close();
});
