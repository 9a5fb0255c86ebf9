import { describe, expect, it } from "vitest";
import { defaultRoomDocument, runParams } from "@atelier/protocol";
import { settingRows } from "@/components/params-table";

const params = runParams.parse({
  ...defaultRoomDocument(),
  contentImageId: "c",
  styles: [{ imageId: "s", weight: 1 }],
});

describe("settingRows (the result page's settings)", () => {
  it("says what the run did with colours once: the colour control, not the older flag beside it", () => {
    const rows = settingRows({ ...params, originalColors: true, colorControl: undefined });
    expect(rows.map((r) => r.label)).not.toContain("Original colours");
    expect(rows.find((r) => r.field === "colorControl")?.text).toBe(
      settingRows({ ...params, colorControl: "luminance" }).find((r) => r.field === "colorControl")?.text,
    );
  });
  it("lists the regions", () => {
    expect(settingRows(params).find((r) => r.field === "masks")?.text).toBe("none (styles everywhere)");
  });
});
