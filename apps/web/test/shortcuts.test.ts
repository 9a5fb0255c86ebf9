import { describe, expect, it } from "vitest";
import { shortcutFor, stepBrush, type KeyPress } from "@/lib/shortcuts";

const key = (k: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe("shortcutFor", () => {
  it("maps the studio's keys on the page", () => {
    expect(shortcutFor(key("Enter"), "page")).toBe("start");
    expect(shortcutFor(key(" "), "page")).toBe("start");
    expect(shortcutFor(key("Escape"), "page")).toBe("cancel");
    expect(shortcutFor(key("["), "page")).toBe("brush-smaller");
    expect(shortcutFor(key("]"), "page")).toBe("brush-larger");
    expect(shortcutFor(key("?", { shiftKey: true }), "page")).toBe("help");
    expect(shortcutFor(key("z", { ctrlKey: true }), "page")).toBe("undo");
    expect(shortcutFor(key("Z", { ctrlKey: true, shiftKey: true }), "page")).toBe("redo");
    expect(shortcutFor(key("z", { metaKey: true, shiftKey: true }), "page")).toBe("redo");
    expect(shortcutFor(key("y", { ctrlKey: true }), "page")).toBe("redo");
    expect(shortcutFor(key("a"), "page")).toBeNull();
    expect(shortcutFor(key("s", { ctrlKey: true }), "page")).toBeNull();
    expect(shortcutFor(key("[", { altKey: true }), "page")).toBeNull();
  });

  it("leaves text fields and dialogs their own keys", () => {
    for (const k of [key("z", { ctrlKey: true }), key("Enter"), key("["), key("?"), key("Escape")]) {
      expect(shortcutFor(k, "text")).toBeNull();
      expect(shortcutFor(k, "dialog")).toBeNull();
    }
  });

  it("leaves Enter and Space to a focused button, but undo and brackets still work there", () => {
    expect(shortcutFor(key("Enter"), "control")).toBeNull();
    expect(shortcutFor(key(" "), "control")).toBeNull();
    expect(shortcutFor(key("z", { ctrlKey: true }), "control")).toBe("undo");
    expect(shortcutFor(key("]"), "control")).toBe("brush-larger");
  });
});

describe("stepBrush", () => {
  it("steps by a quarter within bounds", () => {
    expect(stepBrush(0.08, "brush-larger", 0.01, 0.5)).toBe(0.1);
    expect(stepBrush(0.08, "brush-smaller", 0.01, 0.5)).toBe(0.064);
    expect(stepBrush(0.45, "brush-larger", 0.01, 0.5)).toBe(0.5);
    expect(stepBrush(0.011, "brush-smaller", 0.01, 0.5)).toBe(0.01);
  });
});
