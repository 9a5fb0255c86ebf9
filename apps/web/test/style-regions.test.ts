import { describe, expect, it } from "vitest";
import { maskLayer } from "@atelier/protocol";
import { blendShare, regionHelpText, weightForShare } from "@/lib/style-regions";

const names: Record<string, string> = { a: "Starry night", b: "The wave", c: "Composition" };
const nameOf = (id: string) => names[id]!;
const stroke = {
  strokeId: "s1",
  authorId: "u1",
  size: 0.1,
  points: [
    [0.2, 0.2],
    [0.3, 0.3],
  ],
};
const brush = maskLayer.parse({ strokes: [{ ...stroke, tool: "brush" }] });
const erasedOnly = maskLayer.parse({ strokes: [{ ...stroke, tool: "eraser" }] });

describe("regionHelpText", () => {
  it("says every style covers the whole picture while nothing is painted (an eraser paints nothing)", () => {
    const styles = [{ imageId: "a" }, { imageId: "b" }];
    for (const masks of [{}, { a: erasedOnly }]) {
      const text = regionHelpText(styles, masks, nameOf);
      expect(text).toContain("every style covers the whole picture");
      expect(text).not.toContain("keep the photo");
    }
    expect(regionHelpText([{ imageId: "a" }], {}, nameOf)).toContain("the style covers the whole picture");
  });
  it("says areas no region covers keep the photo only when every style has a region", () => {
    const text = regionHelpText([{ imageId: "a" }, { imageId: "b" }], { a: brush, b: brush }, nameOf);
    expect(text).toBe("Each style covers only its painted region; areas no region covers keep the photo.");
  });
  it("names the painted styles and the ones that still cover everything", () => {
    expect(regionHelpText([{ imageId: "a" }, { imageId: "b" }, { imageId: "c" }], { a: brush }, nameOf)).toBe(
      "Starry night covers only its painted region; The wave and Composition, with nothing painted, cover the whole picture.",
    );
  });
  it("asks for a style when there is none", () => {
    expect(regionHelpText([], {}, nameOf)).toBe("Add a style, then paint where it goes.");
  });
});

describe("blend slider", () => {
  it("puts the handle at the share the label shows: weight 1 beside 1 is 50 %, not a tenth of the track", () => {
    expect(blendShare(1, 1)).toBe(50);
    expect(blendShare(0, 0)).toBe(0);
    expect(blendShare(3, 0)).toBe(100);
  });
  it("turns a share back into the weight that gives it, for any other weight", () => {
    for (const others of [0.5, 1, 3, 40])
      for (const share of [1, 10, 25, 50, 75, 90]) {
        const w = weightForShare(share, others, 1);
        // beside a heavy blend a large share needs more than the schema's 100: the weight stops there
        if ((others * share) / (100 - share) > 100) expect(w).toBe(100);
        else expect(Math.abs(blendShare(w, others) - share)).toBeLessThanOrEqual(1);
      }
  });
  it("stays inside the schema's 0–100 and handles the ends", () => {
    expect(weightForShare(0, 2, 5)).toBe(0);
    expect(weightForShare(100, 2, 5)).toBe(100);
    expect(weightForShare(99, 50, 5)).toBe(100);
    // alone in the blend, any positive weight is 100 %: a move keeps a positive weight
    expect(weightForShare(40, 0, 0)).toBe(1);
    expect(weightForShare(40, 0, 2.5)).toBe(2.5);
  });
});
