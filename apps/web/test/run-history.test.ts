import { describe, expect, it } from "vitest";
import { defaultRoomDocument, ROOM_FIELDS, type RoomField, type RunSummary, type SweepInfo } from "@atelier/protocol";
import {
  activityText,
  describeChange,
  downloadSizes,
  promotedCell,
  runChangesText,
  runNumber,
} from "@/lib/run-history";

const labels = Object.fromEntries(ROOM_FIELDS.map((f) => [f, f.toUpperCase()])) as Record<RoomField, string>;
const params = { ...defaultRoomDocument(), size: 512, contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] };

function summary(runId: string, overrides: Partial<RunSummary["params"]> = {}): RunSummary {
  return {
    runId,
    status: "completed",
    author: { userId: "u1", name: "Ada" },
    createdAt: new Date(0).toISOString(),
    iteration: 10,
    iterations: 10,
    params: { ...params, ...overrides },
    finalImageId: null,
    resumedFromId: null,
  };
}

describe("describeChange", () => {
  it("numbers and choices as before → after", () => {
    expect(describeChange({ field: "styleWeight", before: 100, after: 5000 }, labels)).toBe("STYLEWEIGHT 100 → 5000");
    expect(describeChange({ field: "tvWeight", before: 0.001, after: 0.0123456 }, labels)).toBe(
      "TVWEIGHT 0.001 → 0.0123",
    );
    expect(describeChange({ field: "optimizer", before: "lbfgs", after: "adam" }, labels)).toBe(
      "OPTIMIZER lbfgs → adam",
    );
    expect(describeChange({ field: "multiscale", before: false, after: true }, labels)).toBe("MULTISCALE off → on");
  });
  it("images and lists just changed", () => {
    expect(describeChange({ field: "contentImageId", before: "a", after: "b" }, labels)).toBe("CONTENTIMAGEID changed");
    expect(describeChange({ field: "styles", before: [], after: [{ imageId: "x", weight: 1 }] }, labels)).toBe(
      "STYLES changed",
    );
  });
});

describe("runChangesText (newest-first list)", () => {
  const runs = [summary("r3", { styleWeight: 5000, size: 256 }), summary("r2"), summary("r1")];
  it("compares each run with the one before it", () => {
    expect(runChangesText(runs, 0, labels)).toBe("SIZE 512 → 256 · STYLEWEIGHT 100 → 5000");
    expect(runChangesText(runs, 1, labels)).toBe("same settings");
    expect(runChangesText(runs, 2, labels)).toBe("first run");
  });
  it("numbers runs oldest first", () => {
    expect(runNumber(runs, "r3")).toBe(3);
    expect(runNumber(runs, "r1")).toBe(1);
    expect(runNumber(runs, "gone")).toBeNull();
  });
});

describe("activityText", () => {
  const runs = [summary("r2"), summary("r1")];
  const activity = { roomId: "room", author: { userId: "u2", name: "Bob" }, runId: "r1", at: 0 };
  it("says who did what to which run", () => {
    expect(activityText({ ...activity, kind: "restored-settings" }, runs, "u1")).toBe(
      "Bob restored the settings of run #1.",
    );
    expect(activityText({ ...activity, kind: "continued-from" }, runs, "u2")).toBe(
      "You started a new run from the image of run #1.",
    );
    expect(activityText({ ...activity, kind: "continued-from", runId: "old" }, runs, "u1")).toBe(
      "Bob started a new run from the image of an earlier run.",
    );
    expect(activityText({ ...activity, kind: "resumed" }, runs, "u1")).toBe(
      "The worker painting run #1 went away: another worker continued it from its last checkpoint.",
    );
  });
});

describe("activityText for a promoted sweep cell", () => {
  const sweep: SweepInfo = {
    sweepId: "sw",
    author: { userId: "u1", name: "Ada" },
    axes: [
      { param: "styleWeight", values: [100, 100000] },
      { param: "tvWeight", values: [0, 1] },
    ],
    size: 48,
    iterations: 10,
    queuePosition: null,
    cells: [
      [100, 0],
      [100, 1],
      [100000, 0],
      [100000, 1],
    ].map(([styleWeight, tvWeight], index) => ({
      index,
      values: { styleWeight: styleWeight!, tvWeight: tvWeight! },
      status: "completed" as const,
      iteration: 10,
      error: null,
    })),
  };
  const activity = { roomId: "room", author: { userId: "u1", name: "Ada" }, kind: "promoted" as const, at: 0 };

  it("names the cell whose values the room now has, once the promoted run is listed", () => {
    const runs = [summary("r2", { styleWeight: 100000, tvWeight: 0 }), summary("r1")];
    expect(activityText({ ...activity, runId: "r2" }, runs, "u2", sweep)).toBe(
      "Ada promoted the sweep cell Style weight 100000 · TV weight 0: the room's settings are now its values, and a full run starts from its image.",
    );
  });
  it("still says the settings changed before the run is listed, or when no cell matches", () => {
    const said =
      "You promoted a sweep cell: the room's settings are now its values, and a full run starts from its image.";
    expect(activityText({ ...activity, runId: "r9" }, [summary("r1")], "u1", sweep)).toBe(said);
    expect(activityText({ ...activity, runId: "r1" }, [summary("r1", { styleWeight: 7 })], "u1", sweep)).toBe(said);
    expect(activityText({ ...activity, runId: "r1" }, [summary("r1")], "u1", null)).toBe(said);
  });
  it("finds a blend cell by the first style's share", () => {
    const blend: SweepInfo = {
      ...sweep,
      axes: [{ param: "styleBlend", values: [0.25, 0.75] }],
      cells: [0.25, 0.75].map((v, index) => ({
        index,
        values: { styleBlend: v },
        status: "completed" as const,
        iteration: 10,
        error: null,
      })),
    };
    const styles = [
      { imageId: "s", weight: 3 },
      { imageId: "t", weight: 1 },
    ];
    expect(promotedCell(blend, summary("r1", { styles }).params)?.index).toBe(1);
  });
});

describe("downloadSizes", () => {
  it("a run's own size, then its finished larger renders, smallest first", () => {
    const source = { ...summary("r1"), finalImageId: "img512" };
    const at = (runId: string, size: number, extra: Partial<RunSummary>) => ({ ...summary(runId, { size }), ...extra });
    const runs = [
      at("r5", 2048, { resumedFromId: "r1", finalImageId: "img2048" }),
      at("r4", 1024, { resumedFromId: "r1", status: "failed", finalImageId: "imgFailed" }),
      at("r3", 512, { resumedFromId: "r1", finalImageId: "imgContinued" }), // a continue at the same size
      at("r2", 1024, { resumedFromId: "r1", finalImageId: "img1024" }),
      source,
    ];
    expect(downloadSizes(runs, source)).toEqual([
      { size: 512, imageId: "img512" },
      { size: 1024, imageId: "img1024" },
      { size: 2048, imageId: "img2048" },
    ]);
    // no image: nothing to download
    expect(downloadSizes(runs, summary("r9"))).toEqual([]);
  });
});
