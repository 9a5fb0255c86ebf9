import { describe, expect, it } from "vitest";
import {
  defaultRoomDocument,
  estimateRunSeconds,
  renderLargeOffer,
  renderLargeParams,
  renderLargeRefusal,
  renderLargeSeconds,
  runSettings,
  startRun,
} from "../src/index.ts";

const ID = "c".repeat(24);

describe("render large: the run:start override", () => {
  it("needs the run to render, and a size within the schema's bounds", () => {
    expect(startRun.safeParse({ roomId: ID, fromRunId: ID, render: { size: 1024 } }).success).toBe(true);
    const alone = startRun.safeParse({ roomId: ID, render: { size: 1024 } });
    expect(alone.success).toBe(false);
    expect(alone.error?.issues[0]?.message).toBe("a large render needs the run to render (fromRunId)");
    expect(startRun.safeParse({ roomId: ID, fromRunId: ID, render: { size: 4096 } }).success).toBe(false);
    expect(startRun.safeParse({ roomId: ID, fromRunId: ID, render: { size: 1000.5 } }).success).toBe(false);
    // without render: as before
    expect(startRun.parse({ roomId: ID })).toEqual({ roomId: ID, restart: false });
  });

  it("runs the source's top level only, at the new size, with that level's iterations", () => {
    const source = runSettings.parse({ ...defaultRoomDocument(), size: 512, iterations: 100, multiscale: true });
    const large = renderLargeParams(source, 1024);
    // 512 px coarse-to-fine is 128/181/256/362/512 with 32/22/14/10/22 iterations: the top level's 22
    expect(large).toEqual({ ...source, size: 1024, multiscale: false, iterations: 22 });
    // a single-level run: all its iterations
    expect(renderLargeParams({ size: 64, iterations: 30, multiscale: false }, 128)).toEqual({
      size: 128,
      iterations: 30,
      multiscale: false,
    });
  });

  it("is refused over the operator's cap or when not larger than the painting", () => {
    expect(renderLargeRefusal(512, 1024, 1024)).toBeNull();
    expect(renderLargeRefusal(512, 2048, 1024)).toBe("this optimiser renders images up to 1024 px (asked for 2048 px)");
    expect(renderLargeRefusal(512, 512, 2048)).toBe("the painting is already 512 px; a large render must be larger");
  });

  it("offers the smallest size above the painting that the cap allows", () => {
    expect(renderLargeOffer(512, 2048)).toBe(1024);
    expect(renderLargeOffer(1024, 2048)).toBe(2048);
    expect(renderLargeOffer(512, 768)).toBeNull();
    expect(renderLargeOffer(2048, 2048)).toBeNull();
  });

  it("its estimate is the one time function's for those settings", () => {
    const rate = { msPerPixelIteration: 0.01 };
    const source = { size: 512, iterations: 100, multiscale: true };
    // the top level's 22 iterations at 1024 × 768 px
    expect(renderLargeSeconds(source, 1024, rate, 0.75)).toBeCloseTo((22 * 1024 * 768 * 0.01) / 1000, 9);
    expect(renderLargeSeconds(source, 1024, rate)).toBeCloseTo(
      estimateRunSeconds({ size: 1024, iterations: 22, multiscale: false }, rate),
      9,
    );
  });
});
