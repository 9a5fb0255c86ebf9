import { describe, expect, it } from "vitest";
import { colorOf } from "../src/index.ts";

describe("colorOf", () => {
  it("is stable per user and differs between users", () => {
    expect(colorOf("user-a")).toBe(colorOf("user-a"));
    expect(colorOf("user-a")).toMatch(/^hsl\(\d{1,3} 70% 45%\)$/);
    const hues = new Set(["a", "b", "c", "d", "e", "f"].map((id) => colorOf(`user-${id}`)));
    expect(hues.size).toBeGreaterThan(3);
  });
});
