/**
 * A node's view of a room (RoomRegistry / LiveRoom) against the authoritative document store:
 * a change the store accepted whose announcement never reached this node (in flight when Redis
 * died) is caught up with before the view is served to a joiner or a run; a store that does not
 * answer delays that by a bounded time and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultRoomDocument, type IterationStats } from "@atelier/protocol";
import type { DocumentStore } from "../src/rooms/document-store.ts";
import { MemoryDocumentStore } from "../src/rooms/document-store-memory.ts";
import { createLogger } from "../src/common/log.ts";
import { LiveRoom } from "../src/rooms/live-room.ts";
import { offerOf, RoomRegistry } from "../src/rooms/room-registry.ts";
import { createFixture, scaled, type Fixture } from "./support.ts";

const log = createLogger("silent");
const author = { userId: "u-remote", name: "Remote" };

describe("LiveRoom.applyChange", () => {
  const fresh = () =>
    new LiveRoom({
      id: "room-1",
      name: "Room",
      document: { ...defaultRoomDocument(), styleWeight: 100 },
      version: 10,
      fieldVersions: { styleWeight: 10 },
      fieldAuthors: {},
    });

  it("moves a field only to a higher version: a late, lower one changes nothing", () => {
    const room = fresh();
    expect(room.applyChange("styleWeight", 300, 12, author)).toBe(true);
    // the change of version 11 arrives after the one of version 12 (two gateways' messages raced)
    expect(room.applyChange("styleWeight", 200, 11, { userId: "u-late", name: "Late" })).toBe(false);
    expect(room.document.styleWeight).toBe(300);
    expect(room.fieldVersions.styleWeight).toBe(12);
    expect(room.fieldAuthors.styleWeight).toEqual(author);
    expect(room.version).toBe(12);
    // a repeat of the same version is no change either
    expect(room.applyChange("styleWeight", 999, 12, author)).toBe(false);
    expect(room.document.styleWeight).toBe(300);
  });

  it("keeps versions per field: an older version of another field still applies", () => {
    const room = fresh();
    expect(room.applyChange("styleWeight", 300, 12, author)).toBe(true);
    expect(room.applyChange("contentWeight", 7, 11, author)).toBe(true);
    expect(room.document.contentWeight).toBe(7);
    expect(room.version).toBe(12);
  });
});

describe("LiveRoom.pushStats", () => {
  const stats = (iteration: number, total: number): IterationStats => ({
    runId: "run-1",
    iteration,
    scale: 0,
    total,
    content: total / 2,
    style: { conv1_1: total / 2 },
    tv: 0,
    ms: 10,
  });

  it("keeps an iteration heard twice (read from the store, then its event) once, and a redone one after a resume", () => {
    const room = new LiveRoom({
      id: "room-1",
      name: "Room",
      document: defaultRoomDocument(),
      version: 1,
      fieldVersions: {},
      fieldAuthors: {},
    });
    room.showRun([stats(1, 9), stats(2, 8)], null);
    room.pushStats(stats(2, 8));
    room.pushStats(stats(3, 7));
    room.pushStats(stats(3, 7));
    expect(room.history.map((h) => h.iteration)).toEqual([1, 2, 3]);
    // resumed from the checkpoint of iteration 2: iteration 3 is redone, with other figures
    room.rewindHistory("run-1", 2);
    room.pushStats(stats(3, 6.5));
    expect(room.history.map((h) => [h.iteration, h.total])).toEqual([
      [1, 9],
      [2, 8],
      [3, 6.5],
    ]);
  });
});

describe("RoomRegistry.catchUp", () => {
  let f: Fixture;

  beforeAll(async () => {
    f = await createFixture("room-registry");
  });

  afterAll(async () => {
    await f?.cleanup();
  });

  it("takes the changes the store holds that this node never heard of", async () => {
    const store = new MemoryDocumentStore();
    const rooms = new RoomRegistry(f.db, log, store);
    const room = (await rooms.load(f.roomId))!;
    const before = room.document.styleWeight;
    // accepted by the store through "another node": this node's view is not told
    const outcome = await store.write(f.roomId, {
      field: "styleWeight",
      value: before + 4321,
      author,
      baseVersion: room.version,
    });
    expect(outcome.status).toBe("applied");
    expect(room.document.styleWeight).toBe(before);

    await rooms.catchUp(room);
    expect(room.document.styleWeight).toBe(before + 4321);
    expect(room.version).toBe(outcome.version);
    expect(room.fieldVersions.styleWeight).toBe(outcome.version);
    expect(room.fieldAuthors.styleWeight).toEqual(author);
    await rooms.close();
  });

  it("goes on with this node's view, after a bounded wait, when the store does not answer", async () => {
    const reachable = new MemoryDocumentStore();
    const silent: DocumentStore = {
      mayLoseDocuments: false,
      durable: false,
      open: (roomId, seed) => reachable.open(roomId, seed),
      read: () => new Promise(() => {}), // Redis gone, ioredis holding the command
      write: (roomId, w) => reachable.write(roomId, w),
      release: (roomId) => reachable.release(roomId),
      close: () => reachable.close(),
    };
    const rooms = new RoomRegistry(f.db, log, silent);
    const room = (await rooms.load(f.roomId))!;
    const view = { document: room.document, version: room.version };
    const startedAt = Date.now();
    await rooms.catchUp(room);
    const waited = Date.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(900);
    // bounded at 1 s; the ceiling is 5× that, scaled to the machine (a loaded box stretches timers)
    expect(waited).toBeLessThan(scaled(5_000));
    expect({ document: room.document, version: room.version }).toEqual(view);
    await rooms.close();
  });
});

describe("offerOf (a node's copy of a room, offered to a store that lost it)", () => {
  it("takes each field from whichever of the saved copy and the view knew it later, above both versions", () => {
    const base = defaultRoomDocument();
    const view = {
      document: { ...base, styleWeight: 777, contentWeight: 3 },
      version: 520,
      // styleWeight heard at 518 (after the last save at 510); contentWeight known since load (400)
      fieldVersions: { styleWeight: 518, contentWeight: 400 },
      fieldAuthors: { styleWeight: author },
    };
    const saved = { document: { ...base, styleWeight: 5, contentWeight: 9 }, version: 510 };
    const offer = offerOf(view, saved, 1000);
    expect(offer.version).toBe(1520);
    expect(offer.document).toMatchObject({ styleWeight: 777, contentWeight: 9 });
    expect(offer.fieldVersions).toMatchObject({ styleWeight: 518, contentWeight: 510, tvWeight: 510 });
    expect(offer.fieldAuthors).toEqual({ styleWeight: author });
    // nothing saved (a database out of reach): the view alone
    expect(offerOf(view, null, 1000)).toMatchObject({
      version: 1520,
      document: { styleWeight: 777, contentWeight: 3 },
      fieldVersions: { styleWeight: 518, contentWeight: 400, tvWeight: 0 },
    });
  });
});
