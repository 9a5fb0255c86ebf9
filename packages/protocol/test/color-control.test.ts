import { describe, expect, it } from "vitest";
import { effectiveColorControl } from "../src/params.ts";

describe("effectiveColorControl", () => {
  it("follows Original colours until a colour control is chosen, then the choice wins", () => {
    expect(effectiveColorControl({ originalColors: false })).toBe("none");
    expect(effectiveColorControl({ originalColors: true })).toBe("luminance");
    expect(effectiveColorControl({ originalColors: true, colorControl: "match-result" })).toBe("match-result");
    expect(effectiveColorControl({ originalColors: false, colorControl: "luminance" })).toBe("luminance");
  });
});
