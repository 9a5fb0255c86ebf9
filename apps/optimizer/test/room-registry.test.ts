/**
 * A node's view of a room (RoomRegistry / LiveRoom) against the authoritative document store:
 * a change the store accepted whose announcement never reached this node (in flight when Redis
 * died) is caught up with before the view is served to a joiner or a run; a store that does not
 * answer delays that by a bounded time and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DocumentStore } from "../src/document-store.ts";
import { MemoryDocumentStore } from "../src/document-store-memory.ts";
import { createLogger } from "../src/log.ts";
import { RoomRegistry } from "../src/rooms.ts";
import { createFixture, type Fixture } from "./support.ts";

const log = createLogger("silent");
const author = { userId: "u-remote", name: "Remote" };

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
    const rooms = new RoomRegistry(f.db, log, store, () => Promise.resolve());
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
      open: (roomId, seed) => reachable.open(roomId, seed),
      read: () => new Promise(() => {}), // Redis gone, ioredis holding the command
      write: (roomId, w) => reachable.write(roomId, w),
      release: (roomId) => reachable.release(roomId),
      close: () => reachable.close(),
    };
    const rooms = new RoomRegistry(f.db, log, silent, () => Promise.resolve());
    const room = (await rooms.load(f.roomId))!;
    const view = { document: room.document, version: room.version };
    const startedAt = Date.now();
    await rooms.catchUp(room);
    const waited = Date.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(900);
    expect(waited).toBeLessThan(5_000);
    expect({ document: room.document, version: room.version }).toEqual(view);
    await rooms.close();
  });
});
