import { describe, expect, it } from "vitest";
import { COLOR_CONTROLS, FIELD_LABELS, ROOM_FIELDS, runParams, settingText } from "../src/index.ts";

const params = runParams.parse({
  contentImageId: "photo",
  styles: [
    { imageId: "a", weight: 3 },
    { imageId: "b", weight: 1 },
  ],
});

describe("setting labels and texts", () => {
  it("names every room field, and words every one but the photo (shown as a picture)", () => {
    for (const field of ROOM_FIELDS) {
      expect(FIELD_LABELS[field], field).toMatch(/\w/);
      if (field === "contentImageId") expect(settingText(field, params)).toBeNull();
      else expect(settingText(field, params), field).toMatch(/\S/);
    }
  });

  it("says which colour control a run used, following the Original colours rule", () => {
    const texts = COLOR_CONTROLS.map((c) => settingText("colorControl", { ...params, colorControl: c }));
    expect(new Set(texts).size).toBe(COLOR_CONTROLS.length);
    expect(settingText("colorControl", { ...params, originalColors: true })).toBe(
      settingText("colorControl", { ...params, colorControl: "luminance" }),
    );
  });

  it("counts the painted regions and reads the blend as shares", () => {
    expect(settingText("masks", params)).toBe("none (styles everywhere)");
    const stroke = { strokeId: "s1", authorId: "u", tool: "brush" as const, size: 0.05, points: [[0.5, 0.5]] };
    const painted = runParams.parse({ ...params, masks: { a: { strokes: [stroke] } } });
    expect(settingText("masks", painted)).toBe("1 region painted");
    expect(settingText("styles", params)).toBe("2 styles, blend 75 % / 25 %");
  });
});
