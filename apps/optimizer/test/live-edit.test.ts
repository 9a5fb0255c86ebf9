import { defaultRoomDocument, runParams, type LiveEdit, type RunParams } from "@atelier/protocol";
import { describe, expect, it } from "vitest";
import { applyLiveEdit } from "../src/runs/edits.ts";

const params: RunParams = runParams.parse({
  ...defaultRoomDocument(),
  size: 64,
  iterations: 100,
  styleWeight: 10,
  contentImageId: "content1",
  styles: [
    { imageId: "styleA", weight: 1 },
    { imageId: "styleB", weight: 2 },
  ],
});

describe("applyLiveEdit (the one live-edit step of embedded and cluster runs)", () => {
  it("gives the new params, the edit recorded at the run's iteration, and the engine's weights", () => {
    const earlier: LiveEdit = { iteration: 3, field: "tvWeight", value: 0.5, authorId: "bob" };
    const run = { params, iteration: 12, liveEdits: [earlier] };
    const step = applyLiveEdit(run, { field: "styleWeight", value: 50 }, "alice");
    expect(step).toEqual({
      params: { ...params, styleWeight: 50 },
      liveEdits: [earlier, { iteration: 12, field: "styleWeight", value: 50, authorId: "alice" }],
      weights: { styleWeight: 50 },
    });
    // a decision only: the run it was given is left as it was
    expect(run.params.styleWeight).toBe(10);
    expect(run.liveEdits).toEqual([earlier]);
  });

  it("follows an iteration count and a blend-weights-only styles edit", () => {
    const run = { params, iteration: 0, liveEdits: [] };
    expect(applyLiveEdit(run, { field: "iterations", value: 300 }, "alice")?.weights).toEqual({ iterations: 300 });
    const styles = [
      { imageId: "styleA", weight: 0 },
      { imageId: "styleB", weight: 4 },
    ];
    const step = applyLiveEdit(run, { field: "styles", value: styles }, "alice");
    expect(step?.params.styles).toEqual(styles);
    expect(step?.weights).toEqual({ styleBlendWeights: [0, 4] });
  });

  it("does nothing for an edit the run cannot follow live", () => {
    const run = { params, iteration: 5, liveEdits: [] };
    expect(applyLiveEdit(run, { field: "size", value: 128 }, "alice")).toBeNull();
    expect(applyLiveEdit(run, { field: "styles", value: [{ imageId: "styleC", weight: 1 }] }, "alice")).toBeNull();
    expect(
      applyLiveEdit(
        run,
        {
          field: "styles",
          value: [
            { imageId: "styleA", weight: 0 },
            { imageId: "styleB", weight: 0 },
          ],
        },
        "alice",
      ),
    ).toBeNull();
  });

  it("ignores a repeat of what the run already uses (every gateway forwards an edit in cluster mode)", () => {
    const run = { params, iteration: 7, liveEdits: [] };
    expect(applyLiveEdit(run, { field: "styleWeight", value: 10 }, "alice")).toBeNull();
    expect(applyLiveEdit(run, { field: "styles", value: params.styles }, "alice")).toBeNull();
    const once = applyLiveEdit(run, { field: "styleWeight", value: 20 }, "alice")!;
    const again = applyLiveEdit({ ...run, ...once }, { field: "styleWeight", value: 20 }, "bob");
    expect(again).toBeNull();
  });
});
