import { describe, expect, it } from "vitest";
import { planDispatch, type PlanRun } from "../src/cluster/dispatch-plan.ts";

const run = (id: string, userId: string, seconds: number | null = 10): PlanRun => ({ id, userId, seconds });
const ids = (runs: { id: string }[]) => runs.map((r) => r.id);

describe("planDispatch (the cluster's fair order)", () => {
  const waiting = [run("a1", "a"), run("a2", "a"), run("a3", "a"), run("b1", "b"), run("c1", "c")];

  it("starts one run per user, round-robin, up to the free capacity", () => {
    const plan = planDispatch([], waiting, 2, new Map());
    expect(ids(plan.start)).toEqual(["a1", "b1"]);
    expect(plan.waiting.map((w) => [w.run.id, w.position])).toEqual([
      ["c1", 1],
      ["a2", 2],
      ["a3", 3],
    ]);
  });

  it("carries who was served last from one plan to the next", () => {
    const first = planDispatch([], waiting, 2, new Map());
    // a1 ended, b1 still runs: c (never served) goes before a (served)
    const second = planDispatch(
      [run("b1", "b")],
      waiting.slice(1).filter((r) => r.id !== "b1"),
      2,
      first.served,
    );
    expect(ids(second.start)).toEqual(["c1"]);
  });

  it("never gives a user a second slot, whatever the capacity", () => {
    const plan = planDispatch([run("a0", "a")], [run("a1", "a"), run("a2", "a")], 5, new Map());
    expect(plan.start).toEqual([]);
    expect(plan.waiting.map((w) => w.position)).toEqual([1, 2]);
  });

  it("starts nothing without workers but still gives every run its place and ETA", () => {
    const plan = planDispatch([], [run("a1", "a", 4), run("b1", "b", 6)], 0, new Map());
    expect(plan.start).toEqual([]);
    expect(plan.waiting.map((w) => [w.run.id, w.position, w.etaSeconds])).toEqual([
      ["a1", 1, 0],
      ["b1", 2, 4],
    ]);
  });

  it("estimates start times from the slot that frees first; unknown durations make later ETAs unknown", () => {
    const plan = planDispatch(
      [run("r1", "r", 5), run("r2", "s", 8)],
      [run("a1", "a", 3), run("b1", "b", null), run("c1", "c", 2)],
      2,
      new Map(),
    );
    expect(plan.waiting.map((w) => w.etaSeconds)).toEqual([5, 8, null]);
  });
});
