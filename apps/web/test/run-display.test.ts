import { describe, expect, it } from "vitest";
import { defaultRoomDocument, type RunInfo } from "@atelier/protocol";
import { frameFreshness, runStatusText } from "@/lib/run-display";

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
