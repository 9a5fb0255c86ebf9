import type { Page } from "@playwright/test";
import { test, expect } from "../support/fixtures.ts";
import { changedBy, createRoom, newUser, param, signUp } from "../support/app.ts";

/** Every `doc:edit` this page sends over its Socket.IO websocket, decoded (field and value). */
function recordEdits(page: Page): { field: string; value: unknown }[] {
  const edits: { field: string; value: unknown }[] = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (frame) => {
      const text = typeof frame.payload === "string" ? frame.payload : frame.payload.toString("utf8");
      // Socket.IO event packets: "42" + optional ack id + a JSON array [event, payload]
      const packet = /^42\d*(\[.*\])$/s.exec(text);
      if (!packet) return;
      const [event, payload] = JSON.parse(packet[1]!) as [string, { field: string; value: unknown }];
      if (event === "doc:edit") edits.push({ field: payload.field, value: payload.value });
    });
  });
  return edits;
}

test("typing 1000 into Style weight sends one edit; Enter commits at once; a slider drag is one edit", async ({
  page,
}) => {
  const owner = newUser("Artemisia");
  await signUp(page, owner);
  const edits = recordEdits(page);
  await createRoom(page, "One edit per intent");
  const styleWeight = param(page, "styleWeight");
  const editsOf = (field: string) => edits.filter((e) => e.field === field);

  // typed key by key, as a person types (well under the pause that commits)
  await styleWeight.click();
  await styleWeight.press("ControlOrMeta+a");
  await styleWeight.pressSequentially("1000", { delay: 120 });
  await expect(page.getByTestId("changed-by-styleWeight")).toHaveText(changedBy("you"));
  await expect(styleWeight).toHaveValue("1000");
  // nothing more goes out later: the draft was committed once
  await page.waitForTimeout(1500);
  expect(editsOf("styleWeight")).toEqual([{ field: "styleWeight", value: 1000 }]);

  // Enter commits without waiting for the pause
  await styleWeight.press("ControlOrMeta+a");
  await styleWeight.pressSequentially("250", { delay: 50 });
  await styleWeight.press("Enter");
  await expect.poll(() => editsOf("styleWeight").length, { timeout: 500 }).toBe(2);
  expect(editsOf("styleWeight")[1]).toEqual({ field: "styleWeight", value: 250 });

  // an invalid text is explained once, in a sentence, and sends nothing
  await styleWeight.press("ControlOrMeta+a");
  await styleWeight.press("Backspace");
  await expect(page.getByTestId("field-styleWeight").getByRole("alert")).toHaveText("Enter a number.");
  await styleWeight.blur();
  await expect(styleWeight).toHaveValue("250");
  expect(editsOf("styleWeight")).toHaveLength(2);

  // dragging the size slider across its track: one edit, on release
  const slider = param(page, "size");
  const box = (await slider.boundingBox())!;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + 4, y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 4 + (i * (box.width - 8)) / 24, y);
  await page.mouse.up();
  await expect(page.getByTestId("changed-by-size")).toHaveText(changedBy("you"));
  await page.waitForTimeout(1000);
  expect(editsOf("size")).toHaveLength(1);
  await expect(slider).toHaveValue(String(editsOf("size")[0]!.value));
});
