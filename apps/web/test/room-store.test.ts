import { describe, expect, it } from "vitest";
import {
  defaultRoomDocument,
  MAX_LOSS_HISTORY,
  type IterationStats,
  type RoomState,
  type RunInfo,
} from "@atelier/protocol";
import { createRoomStore, roomReducer, initialRoomState, visibleDocument, secondsPerIteration } from "@/lib/room-store";

const alice = { userId: "u-alice", name: "Alice" };
const bob = { userId: "u-bob", name: "Bob" };

function snapshot(overrides: Partial<RoomState> = {}): RoomState {
  return {
    roomId: "r1",
    name: "Studio",
    role: "owner",
    document: defaultRoomDocument(),
    version: 10,
    members: [],
    run: null,
    history: [],
    restartNeeded: [],
    fieldAuthors: {},
    ...overrides,
  };
}

function run(runId: string, overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    runId,
    status: "running",
    authorId: alice.userId,
    params: { ...defaultRoomDocument(), contentImageId: "c", styles: [{ imageId: "s", weight: 1 }] },
    iteration: 0,
    iterations: 100,
    queuePosition: null,
    etaSeconds: null,
    error: null,
    resultIds: [],
    ...overrides,
  };
}

function stats(runId: string, iteration: number, total = 100 - iteration, scale = 0): IterationStats {
  return {
    runId,
    iteration,
    scale,
    total,
    content: total / 2,
    style: { relu1_1: total / 4, relu2_1: total / 4 },
    tv: 0,
    ms: 200,
  };
}

function joined() {
  const store = createRoomStore("r1");
  store.dispatch({ type: "room:state", state: snapshot() });
  return store;
}

describe("room store: document versions", () => {
  it("applies a snapshot and newer field changes, remembering who made them", () => {
    const store = joined();
    expect(store.getState().status).toBe("joined");
    store.dispatch({ type: "doc:changed", field: "styleWeight", value: 250, author: bob, version: 11 });
    const s = store.getState();
    expect(visibleDocument(s)!.styleWeight).toBe(250);
    expect(s.version).toBe(11);
    expect(s.lastChange.styleWeight).toEqual({ ...bob, version: 11 });
  });

  it("primes who changed each field from a snapshot, and live changes keep it current", () => {
    const store = createRoomStore("r1");
    store.dispatch({ type: "prime", state: snapshot({ fieldAuthors: { styleWeight: bob, seed: alice } }) });
    let s = store.getState();
    expect(s.lastChange.styleWeight).toEqual({ ...bob, version: 10 });
    expect(s.lastChange.seed).toEqual({ ...alice, version: 10 });
    expect(s.lastChange.size).toBeUndefined();
    store.dispatch({ type: "doc:changed", field: "styleWeight", value: 250, author: alice, version: 11 });
    expect(store.getState().lastChange.styleWeight).toEqual({ ...alice, version: 11 });
    // the live snapshot replaces the server-rendered one's (empty) authors
    const late = createRoomStore("r1");
    late.dispatch({ type: "prime", state: snapshot() });
    expect(late.getState().lastChange).toEqual({});
    late.dispatch({ type: "room:state", state: snapshot({ version: 12, fieldAuthors: { tvWeight: bob } }) });
    s = late.getState();
    expect(s.lastChange.tvWeight).toEqual({ ...bob, version: 12 });
  });

  it("a snapshot without an author keeps a known one only while the value is unchanged", () => {
    const store = joined();
    store.dispatch({ type: "doc:changed", field: "styleWeight", value: 250, author: bob, version: 11 });
    store.dispatch({ type: "doc:changed", field: "size", value: 300, author: bob, version: 12 });
    // e.g. the optimiser restarted (authors are in its memory only) and someone changed size meanwhile
    const document = { ...defaultRoomDocument(), styleWeight: 250, size: 256 };
    const { fieldAuthors: _none, ...older } = snapshot({ version: 13, document });
    store.dispatch({ type: "room:state", state: older as RoomState });
    const s = store.getState();
    expect(s.lastChange.styleWeight).toEqual({ ...bob, version: 11 });
    expect(s.lastChange.size).toBeUndefined();
  });

  it("ignores changes older than the snapshot and duplicates", () => {
    const store = joined();
    store.dispatch({ type: "doc:changed", field: "size", value: 256, author: bob, version: 9 });
    expect(visibleDocument(store.getState())!.size).toBe(defaultRoomDocument().size);
    store.dispatch({ type: "doc:changed", field: "size", value: 300, author: bob, version: 12 });
    store.dispatch({ type: "doc:changed", field: "size", value: 256, author: bob, version: 11 }); // late, older
    store.dispatch({ type: "doc:changed", field: "size", value: 300, author: bob, version: 12 }); // duplicate
    expect(visibleDocument(store.getState())!.size).toBe(300);
    expect(store.getState().version).toBe(12);
  });

  it("an older snapshot does not roll the document back", () => {
    const store = joined();
    store.dispatch({ type: "doc:changed", field: "iterations", value: 50, author: bob, version: 14 });
    store.dispatch({ type: "room:state", state: snapshot({ version: 12 }) });
    expect(visibleDocument(store.getState())!.iterations).toBe(50);
    expect(store.getState().version).toBe(14);
  });

  it("shows an optimistic edit at once and confirms it on ack", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "contentWeight", value: 8, opId: 1 });
    expect(visibleDocument(store.getState())!.contentWeight).toBe(8);
    expect(store.getState().confirmed!.contentWeight).toBe(5);
    store.dispatch({
      type: "edit-acked",
      field: "contentWeight",
      opId: 1,
      version: 11,
      restartNeeded: false,
      author: alice,
    });
    const s = store.getState();
    expect(s.pending.contentWeight).toBeUndefined();
    expect(s.confirmed!.contentWeight).toBe(8);
    expect(s.lastChange.contentWeight?.userId).toBe(alice.userId);
  });

  it("a concurrent change with a higher version than our ack wins (last writer wins)", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "tvWeight", value: 0.5, opId: 1 });
    // Bob's edit reached the server after ours: it carries version 12, ours got 11.
    store.dispatch({ type: "doc:changed", field: "tvWeight", value: 0.01, author: bob, version: 12 });
    expect(visibleDocument(store.getState())!.tvWeight).toBe(0.5); // still pending locally
    store.dispatch({
      type: "edit-acked",
      field: "tvWeight",
      opId: 1,
      version: 11,
      restartNeeded: false,
      author: alice,
    });
    const s = store.getState();
    expect(visibleDocument(s)!.tvWeight).toBe(0.01);
    expect(s.lastChange.tvWeight?.userId).toBe(bob.userId);
  });

  it("our edit wins over a concurrent one the server applied before it", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "tvWeight", value: 0.5, opId: 1 });
    store.dispatch({ type: "doc:changed", field: "tvWeight", value: 0.01, author: bob, version: 11 });
    store.dispatch({
      type: "edit-acked",
      field: "tvWeight",
      opId: 1,
      version: 12,
      restartNeeded: false,
      author: alice,
    });
    expect(visibleDocument(store.getState())!.tvWeight).toBe(0.5);
    // the broadcast of our own edit arriving afterwards changes nothing
    store.dispatch({ type: "doc:changed", field: "tvWeight", value: 0.5, author: alice, version: 12 });
    expect(store.getState().version).toBe(12);
  });

  it("an ack for an older edit keeps the newer pending value", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "seed", value: 1, opId: 1 });
    store.dispatch({ type: "local-edit", field: "seed", value: 2, opId: 2 });
    store.dispatch({ type: "edit-acked", field: "seed", opId: 1, version: 11, restartNeeded: false, author: alice });
    expect(visibleDocument(store.getState())!.seed).toBe(2);
    expect(store.getState().pending.seed?.opId).toBe(2);
  });

  it("a refused edit falls back to the confirmed value and reports the error", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "size", value: 99999, opId: 3 });
    store.dispatch({ type: "edit-refused", field: "size", opId: 3, error: "size: too big" });
    expect(visibleDocument(store.getState())!.size).toBe(defaultRoomDocument().size);
    expect(store.getState().error).toBe("size: too big");
  });

  it("a restart-needed ack marks the field", () => {
    const store = joined();
    store.dispatch({ type: "local-edit", field: "size", value: 256, opId: 1 });
    store.dispatch({ type: "edit-acked", field: "size", opId: 1, version: 11, restartNeeded: true, author: alice });
    expect(store.getState().restartNeeded).toEqual(["size"]);
    store.dispatch({ type: "restart-needed", fields: ["size", "seed"] });
    expect(store.getState().restartNeeded).toEqual(["size", "seed"]);
  });
});

describe("room store: runs and loss history", () => {
  it("grows the history per iteration, skipping replays, and resets it for a new run", () => {
    const store = joined();
    store.dispatch({ type: "run:update", run: run("run1") });
    for (let i = 1; i <= 5; i++) store.dispatch({ type: "run:stats", stats: stats("run1", i) });
    store.dispatch({ type: "run:stats", stats: stats("run1", 3) }); // replay after a rejoin
    let s = store.getState();
    expect(s.history.map((h) => h.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(s.run!.iteration).toBe(5);
    // multi-scale: iteration numbers restart at the next scale
    store.dispatch({ type: "run:stats", stats: stats("run1", 1, 40, 1) });
    expect(store.getState().history).toHaveLength(6);

    store.dispatch({ type: "run:update", run: run("run2", { status: "queued", queuePosition: 2, etaSeconds: 30 }) });
    s = store.getState();
    expect(s.history).toEqual([]);
    expect(s.run!.queuePosition).toBe(2);
    store.dispatch({ type: "run:stats", stats: stats("run1", 6) }); // late stats of the old run
    expect(store.getState().history).toEqual([]);
    store.dispatch({ type: "run:stats", stats: stats("run2", 1) });
    expect(store.getState().history).toHaveLength(1);
  });

  it("status updates of the same run keep the history; a new run clears restart-needed", () => {
    const store = joined();
    store.dispatch({ type: "run:update", run: run("run1") });
    store.dispatch({ type: "run:stats", stats: stats("run1", 1) });
    store.dispatch({ type: "restart-needed", fields: ["size"] });
    store.dispatch({ type: "run:update", run: run("run1", { status: "completed", iteration: 1 }) });
    expect(store.getState().history).toHaveLength(1);
    expect(store.getState().restartNeeded).toEqual(["size"]);
    store.dispatch({ type: "run:update", run: run("run2") });
    expect(store.getState().restartNeeded).toEqual([]);
  });

  it("keeps the painting speed from the snapshot and from run updates (a completed run may change it)", () => {
    const reference = { backend: "wasm", msPerPixelIteration: 0.022, source: "default" as const, runs: 0 };
    const store = createRoomStore("r1");
    store.dispatch({ type: "room:state", state: snapshot({ speed: reference }) });
    expect(store.getState().speed).toEqual(reference);
    store.dispatch({ type: "run:update", run: run("run1") }); // an older service sends no speed: keep what we know
    expect(store.getState().speed).toEqual(reference);
    const measured = { ...reference, msPerPixelIteration: 0.03, source: "measured" as const, runs: 1 };
    store.dispatch({ type: "run:update", run: run("run1", { status: "completed" }), speed: measured });
    expect(store.getState().speed).toEqual(measured);
  });

  it("takes the history from a late joiner's snapshot", () => {
    const store = createRoomStore("r1");
    const history = [stats("run1", 1), stats("run1", 2)];
    store.dispatch({ type: "room:state", state: snapshot({ run: run("run1", { iteration: 2 }), history }) });
    store.dispatch({ type: "run:stats", stats: stats("run1", 3) });
    expect(store.getState().history.map((h) => h.iteration)).toEqual([1, 2, 3]);
  });

  it("bounds the history", () => {
    const full = Array.from({ length: MAX_LOSS_HISTORY }, (_, i) => stats("r", i + 1));
    let s = roomReducer(initialRoomState("r1"), {
      type: "room:state",
      state: snapshot({ run: run("r"), history: full }),
    });
    for (let i = MAX_LOSS_HISTORY + 1; i <= MAX_LOSS_HISTORY + 5; i++)
      s = roomReducer(s, { type: "run:stats", stats: stats("r", i) });
    expect(s.history).toHaveLength(MAX_LOSS_HISTORY);
    expect(s.history[s.history.length - 1]!.iteration).toBe(MAX_LOSS_HISTORY + 5);
  });

  it("computes seconds per iteration from the recent history", () => {
    expect(secondsPerIteration([])).toBeNull();
    expect(secondsPerIteration([stats("r", 1), stats("r", 2)])).toBeCloseTo(0.2);
  });

  it("notifies subscribers only on change", () => {
    const store = joined();
    let calls = 0;
    const off = store.subscribe(() => calls++);
    store.dispatch({ type: "doc:changed", field: "size", value: 256, author: bob, version: 5 }); // stale: no change
    store.dispatch({ type: "presence", members: [] });
    off();
    store.dispatch({ type: "presence", members: [] });
    expect(calls).toBe(1);
  });
});
