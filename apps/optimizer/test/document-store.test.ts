/**
 * The room document stores: the write rule as a pure function, the in-process store, and the
 * Redis store (real Redis at REDIS_URL, default redis://127.0.0.1:6379, keys under a prefix of
 * this file's own) — the same outcomes for the same writes, one version per write however many
 * connections write at once, atomic seeding, and a document Redis lost coming back with higher versions.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultRoomDocument, interNodeEventSchemas, type RoomDocument } from "@atelier/protocol";
import { decideFieldWrite, type DocumentStore, type FieldWrite } from "../src/rooms/document-store.ts";
import { MemoryDocumentStore } from "../src/rooms/document-store-memory.ts";
import { RedisDocumentStore } from "../src/rooms/document-store-redis.ts";
import { createLogger } from "../src/common/log.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `atelier-test-${randomUUID().slice(0, 8)}:`;
const log = createLogger("warn");
const ada = { userId: "u-ada", name: "Ada" };
const seed = (version = 3): { document: RoomDocument; version: number } => ({
  document: defaultRoomDocument(),
  version,
});
const write = (field: FieldWrite["field"], value: unknown, extra: Partial<FieldWrite> = {}): FieldWrite => ({
  field,
  value,
  author: ada,
  baseVersion: 0,
  ...extra,
});

let clients: Redis[] = [];
const connect = () => {
  const client = new Redis(REDIS_URL);
  clients.push(client);
  return client;
};

beforeAll(() => {
  clients = [];
});

afterAll(async () => {
  const keys = await clients[0]?.keys(`${prefix}*`);
  if (keys?.length) await clients[0]!.del(...keys);
  await Promise.all(clients.map((c) => c.quit()));
});

describe("decideFieldWrite", () => {
  it("applies with the next version, leaves an equal value alone, refuses a moved-on conditional write", () => {
    expect(decideFieldWrite({ version: 7, fieldVersion: 2, sameValue: false })).toEqual({
      status: "applied",
      version: 8,
    });
    expect(decideFieldWrite({ version: 7, fieldVersion: 2, sameValue: true })).toEqual({
      status: "unchanged",
      version: 7,
    });
    expect(decideFieldWrite({ version: 7, fieldVersion: 2, sameValue: false, ifFieldVersion: 2 })).toEqual({
      status: "applied",
      version: 8,
    });
    expect(decideFieldWrite({ version: 7, fieldVersion: 5, sameValue: false, ifFieldVersion: 2 })).toEqual({
      status: "conflict",
      version: 7,
    });
  });
});

const stores: [string, () => DocumentStore][] = [
  ["memory", () => new MemoryDocumentStore()],
  ["redis", () => new RedisDocumentStore(connect(), { keyPrefix: prefix, log })],
];

describe.each(stores)("%s store", (_kind, make) => {
  it("follows the one rule: stale bases applied, equal values unchanged, conditional writes checked", async () => {
    const store = make();
    const room = randomUUID();
    expect(await store.write(room, write("styleWeight", 5))).toEqual({ status: "missing", version: 0 });
    const opened = await store.open(room, seed(3));
    expect(opened.version).toBe(3);
    expect(opened.fieldVersions.styleWeight).toBe(3);

    expect(await store.write(room, write("styleWeight", 123))).toMatchObject({ status: "applied", version: 4 });
    // a base the author saw long ago is still applied: last writer wins per field
    expect(await store.write(room, write("tvWeight", 0.5, { baseVersion: 1 }))).toMatchObject({
      status: "applied",
      version: 5,
    });
    expect(await store.write(room, write("styleWeight", 123))).toEqual({ status: "unchanged", version: 5 });
    expect(await store.write(room, write("styleWeight", 9, { ifFieldVersion: 3 }))).toEqual({
      status: "conflict",
      version: 5,
    });
    expect(await store.write(room, write("styleWeight", 9, { ifFieldVersion: 4 }))).toMatchObject({
      status: "applied",
      version: 6,
    });

    const read = await store.read(room);
    expect(read).toMatchObject({ version: 6, fieldVersions: { styleWeight: 6, tvWeight: 5, contentWeight: 3 } });
    expect(read!.document).toEqual({ ...defaultRoomDocument(), styleWeight: 9, tvWeight: 0.5 });
    expect(read!.fieldAuthors.styleWeight).toEqual(ada);
    // opening again does not reseed a document the store holds
    expect((await store.open(room, seed(1))).version).toBe(6);
    await store.close();
  });
});

describe("redis store across connections", () => {
  it("hands out every version once when many gateways write at once", async () => {
    const gateways = [0, 1, 2].map(() => new RedisDocumentStore(connect(), { keyPrefix: prefix, log }));
    const room = randomUUID();
    // concurrent seeding: one wins, all read the winner's
    const opened = await Promise.all(gateways.map((g, i) => g.open(room, seed(10 + i))));
    expect(new Set(opened.map((o) => o.version)).size).toBe(1);
    const base = opened[0]!.version;

    const writes = 300;
    const outcomes = await Promise.all(
      Array.from({ length: writes }, (_, i) => gateways[i % 3]!.write(room, write("styleWeight", 1000 + i))),
    );
    const versions = outcomes.map((o) => {
      expect(o.status).toBe("applied");
      return o.version;
    });
    // one version per write, with no gap: base+1 … base+writes
    expect(new Set(versions).size).toBe(writes);
    expect(Math.min(...versions)).toBe(base + 1);
    expect(Math.max(...versions)).toBe(base + writes);
    // the last version's value is the document's value
    const last = outcomes.findIndex((o) => o.version === base + writes);
    expect((await gateways[0]!.read(room))!.document.styleWeight).toBe(1000 + last);
  });

  it("reloads its scripts and reports a document Redis lost", async () => {
    const redis = connect();
    const store = new RedisDocumentStore(redis, { keyPrefix: prefix, log });
    const room = randomUUID();
    await store.open(room, seed(3));
    await redis.script("FLUSH");
    expect(await store.write(room, write("iterations", 77))).toMatchObject({ status: "applied", version: 4 });
    await redis.del(`${prefix}doc:${room}`);
    expect(await store.read(room)).toBeNull();
    expect(await store.write(room, write("iterations", 78))).toEqual({ status: "missing", version: 0 });
  });

  it("tells every node of each write on the adapter's stream, and the room's clients when asked", async () => {
    // a real Socket.IO server on the streams adapter reads what the Lua script appends: the event
    // comes from the stream (kept, read from an offset), not pub/sub (lost while a subscriber
    // reconnects after a Redis restart), and reaches the writing node too
    const streamName = `${prefix}socket.io`;
    const io = new Server(createServer().listen(0, "127.0.0.1"));
    io.adapter(createAdapter(connect(), { streamName, channelPrefix: streamName }));
    const heard: unknown[] = [];
    io.on("atelier:doc", (p: unknown) => heard.push(p));
    const store = new RedisDocumentStore(connect(), {
      keyPrefix: prefix,
      log,
      announce: { stream: streamName, roomKey: (roomId) => `room:${roomId}` },
    });
    const room = randomUUID();
    await store.open(room, seed(3));
    // the adapter starts reading at the stream's end ("$"): let its first XREAD begin
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await store.write(room, write("styleWeight", 321, { announce: true }))).toEqual({
      status: "applied",
      version: 4,
      announced: true,
      nodesTold: true,
    });
    expect(await store.write(room, write("contentWeight", 7, { announce: false }))).toMatchObject({
      version: 5,
      announced: false,
      nodesTold: true,
    });
    expect(await store.write(room, write("contentWeight", 7))).toEqual({ status: "unchanged", version: 5 });
    for (let waited = 0; heard.length < 2 && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(heard).toEqual([
      { roomId: room, field: "styleWeight", value: 321, version: 4, authorId: ada.userId, authorName: ada.name },
      { roomId: room, field: "contentWeight", value: 7, version: 5, authorId: ada.userId, authorName: ada.name },
    ]);
    for (const p of heard) expect(interNodeEventSchemas["atelier:doc"].safeParse(p).success).toBe(true);
    // the clients' broadcast only for the write that asked for it
    const entries = await connect().xrange(streamName, "-", "+");
    const types = entries.map(([, fields]) => fields[fields.indexOf("type") + 1]);
    expect(types).toEqual(["9", "3", "9"]);
    await io.close();
  });

  it("after a loss, adds what later offers knew newer, never over a field written since the seed", async () => {
    const store = new RedisDocumentStore(connect(), { keyPrefix: prefix, log });
    const room = randomUUID();
    const base = defaultRoomDocument();
    // the first node back seeds from its copy: versions from 1500 on
    await store.open(room, {
      document: { ...base, styleWeight: 1 },
      version: 1500,
      fieldVersions: { styleWeight: 400 },
    });
    expect(await store.write(room, write("contentWeight", 42))).toMatchObject({ status: "applied", version: 1501 });
    // another node had heard newer values (before the loss) of both fields
    const opened = await store.open(room, {
      document: { ...base, styleWeight: 2, contentWeight: 7, tvWeight: 0.5 },
      version: 1530,
      fieldVersions: { styleWeight: 430, contentWeight: 430, tvWeight: 10 },
      fieldAuthors: { styleWeight: ada },
    });
    // styleWeight (untouched since the seed, newer) is taken with the next version; contentWeight
    // was written since the seed and stays; tvWeight was known older than the seed's copy
    expect(opened.document).toMatchObject({ styleWeight: 2, contentWeight: 42, tvWeight: base.tvWeight });
    expect(opened.version).toBe(1502);
    expect(opened.fieldVersions.styleWeight).toBe(1502);
    expect(opened.fieldAuthors.styleWeight).toEqual(ada);
    // an offer that read this document (versions at or above the seed) adds nothing
    const again = await store.open(room, {
      document: { ...base, styleWeight: 3 },
      version: 2600,
      fieldVersions: { styleWeight: 1501 },
    });
    expect(again.document.styleWeight).toBe(2);
    expect(again.version).toBe(1502);
  });

  it("takes a document with a foreign field repaired, not broken", async () => {
    const redis = connect();
    const store = new RedisDocumentStore(redis, { keyPrefix: prefix, log });
    const room = randomUUID();
    await store.open(room, seed(3));
    await redis.hset(`${prefix}doc:${room}`, "f:size", JSON.stringify("huge"));
    const read = await store.read(room);
    expect(read!.document.size).toBe(defaultRoomDocument().size);
  });
});
