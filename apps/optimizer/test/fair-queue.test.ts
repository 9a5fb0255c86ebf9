import { describe, expect, it } from "vitest";
import { estimateStartTimes, FairQueue } from "../src/runs/fair-queue.ts";
import { nextCellIndex } from "../src/sweeps/embedded-sweep.ts";

const job = (id: string, userId: string) => ({ id, userId });
const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id);

describe("FairQueue", () => {
  it("runs one job per user at a time", () => {
    const q = new FairQueue(2);
    q.enqueue(job("a1", "alice"));
    q.enqueue(job("a2", "alice"));
    expect(ids(q.takeReady())).toEqual(["a1"]);
    expect(q.takeReady()).toEqual([]); // a free slot, but alice is busy
    q.finish("a1");
    expect(ids(q.takeReady())).toEqual(["a2"]);
  });

  it("goes round-robin between users, whoever queued more", () => {
    const q = new FairQueue(1);
    for (const id of ["a1", "a2", "a3"]) q.enqueue(job(id, "alice"));
    q.enqueue(job("b1", "bob"));
    q.enqueue(job("b2", "bob"));
    q.enqueue(job("c1", "carol"));
    const order: string[] = [];
    for (;;) {
      const [next] = q.takeReady();
      if (!next) break;
      order.push(next.id);
      q.finish(next.id);
    }
    expect(order).toEqual(["a1", "b1", "c1", "a2", "b2", "a3"]);
  });

  it("predicts the start order with the same rule", () => {
    const q = new FairQueue(1);
    q.enqueue(job("a1", "alice"));
    expect(ids(q.takeReady())).toEqual(["a1"]);
    q.enqueue(job("a2", "alice"));
    q.enqueue(job("b1", "bob"));
    q.enqueue(job("a3", "alice"));
    q.enqueue(job("c1", "carol"));
    // alice was just served, so bob and carol go before her next job
    expect(ids(q.waitingOrder())).toEqual(["b1", "c1", "a2", "a3"]);
    q.finish("a1");
    expect(ids(q.takeReady())).toEqual(["b1"]);
  });

  it("fills every free slot with different users", () => {
    const q = new FairQueue(3);
    q.enqueue(job("a1", "alice"));
    q.enqueue(job("a2", "alice"));
    q.enqueue(job("b1", "bob"));
    expect(ids(q.takeReady())).toEqual(["a1", "b1"]);
    expect(q.size).toEqual({ waiting: 1, running: 2, concurrency: 3 });
  });

  it("removes waiting jobs and refuses duplicates", () => {
    const q = new FairQueue(1);
    q.enqueue(job("a1", "alice"));
    q.enqueue(job("b1", "bob"));
    expect(() => q.enqueue(job("b1", "bob"))).toThrow(/already queued/);
    expect(q.removeWaiting("b1")?.id).toBe("b1");
    expect(q.removeWaiting("b1")).toBeUndefined();
    expect(ids(q.takeReady())).toEqual(["a1"]);
    expect(q.isRunning("a1")).toBe(true);
    expect(q.takeReady()).toEqual([]);
  });
});

describe("estimateStartTimes", () => {
  it("gives each job the slot that frees first", () => {
    expect(estimateStartTimes([30], 2, [10, 10, 10])).toEqual([0, 10, 20]);
    expect(estimateStartTimes([30, 5], 2, [10, 10])).toEqual([5, 15]);
  });
  it("stops guessing after a job of unknown length", () => {
    expect(estimateStartTimes([], 1, [10, null, 10])).toEqual([0, 10, null]);
  });
});

describe("a sweep's cells in the fair queue", () => {
  it("a cell queued while the one before still runs yields to another user's waiting job", () => {
    // what sweeps/embedded-sweep.ts does: cell N+1 is queued when cell N ends, before its slot frees
    const q = new FairQueue(1);
    q.enqueue(job("sweep:0", "alice"));
    expect(ids(q.takeReady())).toEqual(["sweep:0"]);
    q.enqueue(job("run", "bob"));
    q.enqueue(job("sweep:1", "alice"));
    expect(q.takeReady()).toEqual([]); // the slot is still alice's
    q.finish("sweep:0");
    expect(ids(q.takeReady())).toEqual(["run"]);
    q.finish("run");
    expect(ids(q.takeReady())).toEqual(["sweep:1"]);
  });

  it("two users' sweeps alternate cell by cell", () => {
    const q = new FairQueue(1);
    q.enqueue(job("a:0", "alice"));
    q.enqueue(job("b:0", "bob"));
    const order: string[] = [];
    const next = { alice: 1, bob: 1 };
    for (let i = 0; i < 6; i++) {
      const [started] = q.takeReady();
      order.push(started!.id);
      const user = started!.userId as "alice" | "bob";
      q.enqueue(job(`${user[0]}:${next[user]++}`, user));
      q.finish(started!.id);
    }
    expect(order).toEqual(["a:0", "b:0", "a:1", "b:1", "a:2", "b:2"]);
  });

  it("nextCellIndex: the first queued cell, none once every cell started or ended", () => {
    const cells = (...statuses: string[]) => statuses.map((status) => ({ info: { status } }));
    expect(nextCellIndex(cells("completed", "queued", "queued"))).toBe(1);
    expect(nextCellIndex(cells("completed", "cancelled", "failed"))).toBeNull();
    expect(nextCellIndex(cells("running", "cancelled"))).toBeNull();
  });
});
