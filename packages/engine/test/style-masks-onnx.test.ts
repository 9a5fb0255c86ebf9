/** Forced ATELIER_BACKEND=onnx takes style masks: a masked two-style run stays on onnx. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stylize } from "../src/stylize.ts";

process.env.ATELIER_BACKEND = "onnx";

describe("style masks with ATELIER_BACKEND=onnx", () => {
  it("run on onnx (no fallback, no refusal)", async () => {
    const image = (name: string) => join(process.env.ATELIER_IMAGES!, name);
    const half = { width: 2, height: 1, data: Uint8Array.of(255, 255, 255, 0, 0, 0) };
    const other = { width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 255, 255, 255) };
    const run = stylize({
      content: image("tubingen.jpg"),
      styles: [
        { image: image("starry_night.jpg"), weight: 1, mask: half },
        { image: image("the_scream.jpg"), weight: 1, mask: other },
      ],
      size: 48,
      iterations: 3,
    });
    let events = 0;
    for await (const e of run) {
      expect(Number.isFinite(e.total)).toBe(true);
      events++;
    }
    const result = await run.result;
    expect(events).toBe(3);
    expect(run.info.backend).toBe("onnx");
    expect(result.width).toBe(48);
  });
});
