import { describe, expect, it } from "vitest";
import { defaultRoomDocument, type RunInfo } from "@atelier/protocol";
import { emptyCanvasText, frameFreshness, runStatusText } from "@/lib/run-display";

function run(status: RunInfo["status"]): RunInfo {
  return {
    runId: "r1",
    status,
    authorId: "u1",
    params: { ...defaultRoomDocument(), contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] },
    iteration: 3,
    iterations: 10,
    queuePosition: null,
    etaSeconds: null,
    error: null,
    resultIds: [],
  };
}

describe("runStatusText", () => {
  it("names the run's status", () => {
    expect(runStatusText(null, null)).toBe("Not started");
    expect(runStatusText(run("running"), null)).toBe("Painting");
    expect(runStatusText(run("completed"), null)).toBe("Finished");
  });
  it("says Starting… while a start or restart is unanswered, not the replaced run's end", () => {
    for (const status of ["completed", "cancelled", "running"] as const) {
      expect(runStatusText(run(status), "start")).toBe("Starting…");
      expect(runStatusText(run(status), "restart")).toBe("Starting…");
    }
    expect(runStatusText(null, "start")).toBe("Starting…");
  });
});

describe("frameFreshness", () => {
  it("nothing drawn yet", () => expect(frameFreshness(null, "r1")).toBe("none"));
  it("the current run's frame", () => {
    expect(frameFreshness("r1", "r1")).toBe("current");
    // a frame with no run in the room state (a snapshot not applied yet) is not called stale
    expect(frameFreshness("r1", null)).toBe("current");
  });
  it("an earlier run's frame while a new run has not painted yet", () =>
    expect(frameFreshness("r0", "r1")).toBe("stale"));
});

describe("emptyCanvasText", () => {
  const both = { contentImageId: "c", styles: [{}] };
  it("a room with its photo and style chosen (a remix) is ready, not asking for them", () => {
    expect(emptyCanvasText(null, both, true)).toEqual({
      title: "Ready to paint",
      hint: "The photo and style are chosen: press Start painting.",
    });
    expect(emptyCanvasText(null, both, false).hint).toBe("Waiting for an editor to press Start.");
  });
  it("names only what is missing", () => {
    expect(emptyCanvasText(null, { contentImageId: null, styles: [] }, true).hint).toBe(
      "Choose a photo and a style, then press Start.",
    );
    expect(emptyCanvasText(null, { contentImageId: "c", styles: [] }, true).hint).toBe(
      "Choose a style, then press Start.",
    );
    expect(emptyCanvasText(null, { contentImageId: null, styles: [{}] }, false).hint).toBe(
      "The editors choose a photo.",
    );
  });
  it("a run on its way says so", () => {
    expect(emptyCanvasText("r1", both, true).title).toBe("Waiting for the first brushstrokes…");
  });
});
