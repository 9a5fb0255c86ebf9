/** The onnx backend cannot take style masks yet: forced, a masked run is a clear error. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EngineError } from "../src/errors.ts";
import { stylize } from "../src/stylize.ts";

process.env.ATELIER_BACKEND = "onnx";
const image = (name: string) => join(process.env.ATELIER_IMAGES!, name);

describe("style masks with ATELIER_BACKEND=onnx", () => {
  it("fail with bad_backend instead of running without the masks", async () => {
    const mask = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
    const run = stylize({
      content: image("tubingen.jpg"),
      styles: [{ image: image("starry_night.jpg"), weight: 1, mask }],
      size: 32,
      iterations: 2,
    });
    const error: unknown = await run.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe("bad_backend");
    expect((error as Error).message).toMatch(/onnx backend cannot take style masks/);
  });
});
