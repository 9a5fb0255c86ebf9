import { describe, expect, it } from "vitest";
import { iconWithDot, percentDone, roomTabTitle, runEndNotice, svgDataUrl } from "@/lib/run-watch";

const run = (
  status: "queued" | "running" | "completed" | "failed" | "cancelled",
  iteration = 37,
  iterations = 100,
) => ({
  runId: "r1",
  status,
  iteration,
  iterations,
});

describe("roomTabTitle", () => {
  it("shows progress while painting, never 100 % before the end", () => {
    expect(roomTabTitle("Neckar", run("running"), false)).toBe("37 % · Neckar");
    expect(roomTabTitle("Neckar", run("running", 100, 100), false)).toBe("99 % · Neckar");
    expect(roomTabTitle("Neckar", run("running", 0, 0), false)).toBe("0 % · Neckar");
  });
  it("says Queued while waiting", () => {
    expect(roomTabTitle("Neckar", run("queued", 0), false)).toBe("Queued · Neckar");
  });
  it("says Done (or how it ended) only for a run this page watched", () => {
    expect(roomTabTitle("Neckar", run("completed", 100), true)).toBe("Done · Neckar");
    expect(roomTabTitle("Neckar", run("failed"), true)).toBe("Failed · Neckar");
    expect(roomTabTitle("Neckar", run("cancelled"), true)).toBe("Cancelled · Neckar");
    expect(roomTabTitle("Neckar", run("completed", 100), false)).toBe("Neckar · Atelier");
    expect(roomTabTitle("Neckar", null, false)).toBe("Neckar · Atelier");
  });
});

describe("percentDone", () => {
  it("floors and clamps", () => {
    expect(percentDone({ iteration: 1, iterations: 3 })).toBe(33);
    expect(percentDone({ iteration: -1, iterations: 3 })).toBe(0);
  });
});

describe("runEndNotice", () => {
  it("tells of a watched run that ended, once", () => {
    expect(runEndNotice("Neckar", run("running"), run("completed", 100))).toEqual({
      title: "Neckar: the painting is done",
      body: "100 iterations finished.",
    });
    expect(runEndNotice("Neckar", run("running"), run("cancelled", 40))?.body).toBe("It ended at iteration 40 of 100.");
    expect(runEndNotice("Neckar", run("queued", 0), run("failed", 0))?.title).toBe("Neckar: the run failed");
    // already ended before: nothing new
    expect(runEndNotice("Neckar", run("completed"), run("completed"))).toBeNull();
    // a different run (a restart replaced it): not this one's end
    expect(runEndNotice("Neckar", run("running"), { ...run("completed"), runId: "r2" })).toBeNull();
    // still going, or never seen going
    expect(runEndNotice("Neckar", run("running", 10), run("running", 11))).toBeNull();
    expect(runEndNotice("Neckar", null, run("completed"))).toBeNull();
  });
});

describe("iconWithDot", () => {
  it("adds a dot inside the svg, and leaves text that is not an svg alone", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>';
    const dotted = iconWithDot(svg);
    expect(dotted).toMatch(/<path d="M0 0"\/><circle [^>]+\/><\/svg>$/);
    expect(iconWithDot("not an icon")).toBe("not an icon");
    expect(svgDataUrl(dotted).startsWith("data:image/svg+xml,%3Csvg")).toBe(true);
  });
});
