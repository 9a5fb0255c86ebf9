import { describe, expect, it } from "vitest";
import { cardAspect } from "@/lib/card-aspect";

describe("cardAspect", () => {
  it("keeps the picture's own ratio", () => {
    expect(cardAspect(384, 288)).toBe("384 / 288");
    expect(cardAspect(288, 384)).toBe("288 / 384");
  });
  it("holds panoramas and strips within 2:1", () => {
    expect(cardAspect(1000, 200)).toBe("2 / 1");
    expect(cardAspect(200, 1000)).toBe("1 / 2");
  });
  it("a missing size is a square", () => {
    expect(cardAspect(0, 100)).toBe("1 / 1");
  });
});
