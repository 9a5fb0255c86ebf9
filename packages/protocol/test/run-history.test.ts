import { describe, expect, it } from "vitest";
import {
  MAX_LOSS_HISTORY,
  capLossHistory,
  defaultRoomDocument,
  lossHistory,
  settingsDiff,
  type IterationStats,
} from "../src/index.ts";

function point(iteration: number): IterationStats {
  return { runId: "r1", iteration, scale: 0, total: 10 / iteration, content: 1, style: { relu1_1: 2 }, tv: 0.1, ms: 5 };
}

describe("loss history capping", () => {
  it("keeps a short curve whole (as a copy)", () => {
    const curve = [point(1), point(2), point(3)];
    const capped = capLossHistory(curve);
    expect(capped).toEqual(curve);
    expect(capped).not.toBe(curve);
  });

  it("drops the oldest points beyond the cap", () => {
    const curve = Array.from({ length: 7 }, (_, i) => point(i + 1));
    expect(capLossHistory(curve, 3).map((p) => p.iteration)).toEqual([5, 6, 7]);
  });

  it("caps at MAX_LOSS_HISTORY by default, which the stored schema accepts (and one more it refuses)", () => {
    const curve = Array.from({ length: MAX_LOSS_HISTORY + 25 }, (_, i) => point(i + 1));
    const capped = capLossHistory(curve);
    expect(capped).toHaveLength(MAX_LOSS_HISTORY);
    expect(capped[0]!.iteration).toBe(26);
    expect(lossHistory.safeParse(capped).success).toBe(true);
    expect(lossHistory.safeParse(curve).success).toBe(false);
  });
});

describe("settings diff between runs", () => {
  const base = { ...defaultRoomDocument(), contentImageId: "c1", styles: [{ imageId: "s1", weight: 1 }] };

  it("is empty for a first run and for identical settings", () => {
    expect(settingsDiff(null, base)).toEqual([]);
    expect(settingsDiff(base, { ...base, styles: [{ imageId: "s1", weight: 1 }] })).toEqual([]);
  });

  it("lists each changed field once, in the document's field order, with both values", () => {
    const after = { ...base, styleWeight: 1000, size: 256, styles: [{ imageId: "s2", weight: 1 }] };
    expect(settingsDiff(base, after)).toEqual([
      { field: "size", before: base.size, after: 256 },
      { field: "styleWeight", before: base.styleWeight, after: 1000 },
      { field: "styles", before: base.styles, after: after.styles },
    ]);
  });

  it("sees changes inside lists (a style weight, a layer)", () => {
    const after = { ...base, styles: [{ imageId: "s1", weight: 2 }], styleLayers: ["relu1_1" as const] };
    expect(settingsDiff(base, after).map((c) => c.field)).toEqual(["styleLayers", "styles"]);
  });

  it("compares a room document (no content photo yet) with a run's params", () => {
    const document = defaultRoomDocument();
    expect(settingsDiff(document, base).map((c) => c.field)).toEqual(["contentImageId", "styles"]);
  });
});
