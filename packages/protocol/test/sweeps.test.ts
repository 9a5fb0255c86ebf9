import { describe, expect, it } from "vitest";
import { MAX_SWEEP_CELLS, defaultRoomDocument, expandSweep, startSweep } from "../src/index.ts";

const room = {
  ...defaultRoomDocument(),
  size: 512,
  iterations: 300,
  multiscale: true,
  contentImageId: "c",
  styles: [
    { imageId: "a", weight: 1 },
    { imageId: "b", weight: 1 },
  ],
};

describe("sweep grid expansion", () => {
  it("2×2: row-major cells at the sweep's size and iterations, each with its values in", () => {
    const grid = expandSweep(room, {
      axes: [
        { param: "styleWeight", values: [10, 1000] },
        { param: "tvWeight", values: [0, 0.01] },
      ],
      size: 128,
      iterations: 20,
    });
    if (!grid.ok) throw new Error(grid.error);
    expect(grid.cells.map((c) => c.values)).toEqual([
      { styleWeight: 10, tvWeight: 0 },
      { styleWeight: 10, tvWeight: 0.01 },
      { styleWeight: 1000, tvWeight: 0 },
      { styleWeight: 1000, tvWeight: 0.01 },
    ]);
    expect(grid.cells.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    for (const cell of grid.cells) {
      expect(cell.params).toMatchObject({ size: 128, iterations: 20, multiscale: false, contentImageId: "c" });
      expect(cell.params.styleWeight).toBe(cell.values.styleWeight);
      expect(cell.params.tvWeight).toBe(cell.values.tvWeight);
    }
  });

  it("a blend sweep sets the two styles' shares", () => {
    const grid = expandSweep(room, { axes: [{ param: "styleBlend", values: [0, 0.25, 1] }], size: 64, iterations: 5 });
    if (!grid.ok) throw new Error(grid.error);
    expect(grid.cells.map((c) => c.params.styles.map((s) => s.weight))).toEqual([
      [0, 1],
      [0.25, 0.75],
      [1, 0],
    ]);
  });

  it("refuses values the run settings schema refuses, and says which", () => {
    const bad = expandSweep(room, { axes: [{ param: "styleScale", values: [1, 9] }], size: 64, iterations: 5 });
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.error).toMatch(/styleScale/);
    expect(expandSweep(room, { axes: [{ param: "contentWeight", values: [-1, 1] }], size: 64, iterations: 5 }).ok).toBe(
      false,
    );
  });

  it("refuses a blend sweep without exactly two styles, shares outside 0–1, repeated values", () => {
    const oneStyle = { ...room, styles: [{ imageId: "a", weight: 1 }] };
    expect(expandSweep(oneStyle, { axes: [{ param: "styleBlend", values: [0, 1] }], size: 64, iterations: 5 })).toEqual(
      {
        ok: false,
        error: "a style blend sweep needs exactly two styles in the room",
      },
    );
    expect(expandSweep(room, { axes: [{ param: "styleBlend", values: [0, 2] }], size: 64, iterations: 5 }).ok).toBe(
      false,
    );
    expect(expandSweep(room, { axes: [{ param: "tvWeight", values: [1, 1] }], size: 64, iterations: 5 })).toEqual({
      ok: false,
      error: "tvWeight: repeated values",
    });
  });

  it("refuses a room that cannot run (no content photo)", () => {
    const grid = expandSweep(
      { ...room, contentImageId: null },
      { axes: [{ param: "tvWeight", values: [0, 1] }], size: 64, iterations: 5 },
    );
    expect(grid.ok).toBe(false);
  });
});

describe("sweep request schema", () => {
  it("allows one or two different parameters with 2–4 values each, at most 16 cells", () => {
    const ok = startSweep.safeParse({
      roomId: "r",
      axes: [
        { param: "styleWeight", values: [1, 2, 3, 4] },
        { param: "contentWeight", values: [1, 2, 3, 4] },
      ],
    });
    expect(ok.success).toBe(true);
    expect(ok.success && ok.data).toMatchObject({ size: 128, iterations: 30 });
    expect(MAX_SWEEP_CELLS).toBe(16);
  });
  it("refuses other parameters, too many values or axes, the same parameter twice, big sizes", () => {
    const axis = { param: "styleWeight", values: [1, 2] };
    for (const bad of [
      { roomId: "r", axes: [{ param: "size", values: [64, 128] }] },
      { roomId: "r", axes: [{ param: "styleWeight", values: [1, 2, 3, 4, 5] }] },
      { roomId: "r", axes: [{ param: "styleWeight", values: [1] }] },
      { roomId: "r", axes: [axis, { ...axis, param: "tvWeight" }, { ...axis, param: "styleScale" }] },
      { roomId: "r", axes: [axis, axis] },
      { roomId: "r", axes: [axis], size: 1024 },
      { roomId: "r", axes: [] },
    ]) {
      expect(startSweep.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
