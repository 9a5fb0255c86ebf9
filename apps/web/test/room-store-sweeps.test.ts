import { describe, expect, it } from "vitest";
import type { SweepFrame, SweepInfo } from "@atelier/protocol";
import { initialRoomState, roomReducer } from "@/lib/room-store";

function sweep(sweepId: string): SweepInfo {
  return {
    sweepId,
    author: { userId: "u1", name: "Ada" },
    axes: [{ param: "styleWeight", values: [1, 2] }],
    size: 64,
    iterations: 4,
    queuePosition: null,
    cells: [0, 1].map((index) => ({
      index,
      values: { styleWeight: index + 1 },
      status: "running",
      iteration: 0,
      error: null,
    })),
  };
}

function frame(sweepId: string, cell: number, iteration: number, mime: SweepFrame["mime"] = "image/webp"): SweepFrame {
  return { roomId: "r1", sweepId, cell, iteration, mime, width: 8, height: 6, data: new ArrayBuffer(4) };
}

describe("room store: sweeps and activity", () => {
  it("keeps each cell's newest frame, and a cell's final image over late live frames", () => {
    let s = roomReducer(initialRoomState("r1"), { type: "sweep:update", sweep: sweep("s1") });
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 2) });
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 1) });
    expect(s.sweepFrames[0]!.iteration).toBe(2);
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 4, "image/png") });
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 4) });
    expect(s.sweepFrames[0]!.mime).toBe("image/png");
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 1, 3) });
    expect(Object.keys(s.sweepFrames)).toEqual(["0", "1"]);
  });

  it("a new sweep starts with an empty grid; frames of another sweep are ignored", () => {
    let s = roomReducer(initialRoomState("r1"), { type: "sweep:update", sweep: sweep("s1") });
    s = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 2) });
    s = roomReducer(s, { type: "sweep:update", sweep: { ...sweep("s1"), queuePosition: 2 } });
    expect(s.sweepFrames[0]).toBeDefined();
    s = roomReducer(s, { type: "sweep:update", sweep: sweep("s2") });
    expect(s.sweepFrames).toEqual({});
    const same = roomReducer(s, { type: "sweep:frame", frame: frame("s1", 0, 3) });
    expect(same).toBe(s);
  });

  it("remembers the latest activity", () => {
    const activity = {
      roomId: "r1",
      author: { userId: "u2", name: "Bob" },
      kind: "restored-settings" as const,
      runId: "run1",
      at: 5,
    };
    expect(roomReducer(initialRoomState("r1"), { type: "activity", activity }).lastActivity).toEqual(activity);
  });
});
