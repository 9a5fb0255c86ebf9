/**
 * The cluster document store: each room document is one Redis hash
 * (`<prefix>doc:<roomId>`: `version`, and per field `f:<field>` = canonical JSON value,
 * `fv:<field>` = the version it last changed at, `a:<field>` = its author), and every write is
 * one Lua script run atomically by Redis — so however many gateways write at once, each version
 * is handed out once and the document's version only goes up. Scripts run by EVALSHA; a Redis
 * that restarted and forgot them gets them loaded again.
 *
 * A document Redis does not hold (first use, or a Redis that lost its keys) is seeded from
 * what the caller offers: the database's copy, or a gateway's newer one (RoomRegistry); every
 * gateway then offers its copy too, and fields nobody wrote since the seed take the newest value
 * any of them knew (OPEN_SCRIPT) — so no gateway that seeds first can undo an edit another heard.
 * The hash also keeps `seeded` (the version it was seeded at) and `ov:<field>` (the version a
 * field still held from the seed was known at) for that.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { parseRoomDocument } from "@atelier/db";
import { ROOM_FIELDS, type Author, type InterNodePayload, type RoomField } from "@atelier/protocol";
import type { DocumentOffer, DocumentStore, FieldWrite, StoredDocument, WriteOutcome } from "./document-store.ts";
import type { Logger } from "../common/log.ts";

/**
 * decideFieldWrite (rooms/document-store.ts), in Lua. KEYS[1] the document hash, KEYS[2] the Socket.IO
 * adapter's stream; ARGV: field, canonical JSON value, author JSON, required field version
 * ("" = unconditional), the inter-node `atelier:doc` event around its version, and the clients'
 * `doc:changed` broadcast around its version ("" = none).
 *
 * Both are appended to the adapter's stream in the same atomic step as the version, as an
 * external emitter's messages (uid "emitter", as @socket.io/redis-streams-emitter writes them):
 * - the broadcast: every gateway reads that stream in order, so every client hears a room's
 *   changes in version order, and a reconnecting client gets the ones it missed
 *   (connection-state recovery replays the stream). Were each gateway to broadcast its own
 *   writes, two gateways' broadcasts could reach a client in the opposite order.
 * - the inter-node event, which keeps every gateway's view of the room (late joiners' state, the
 *   parameters a run starts with) on the store's document. A server-side emit of the adapter
 *   itself goes over Redis pub/sub, which keeps nothing: after a Redis restart the gateway whose
 *   subscriber reconnected last missed the first edits made through the others (measured in the
 *   Redis-restart chaos test: 2 of 3 runs ended with that gateway's view behind the store). The
 *   stream is read from an offset, so nothing appended after the restart is skipped.
 */
const WRITE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing', 0} end
local version = tonumber(redis.call('HGET', KEYS[1], 'version'))
local fieldVersion = tonumber(redis.call('HGET', KEYS[1], 'fv:' .. ARGV[1]) or '0')
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= fieldVersion then return {'conflict', version} end
if redis.call('HGET', KEYS[1], 'f:' .. ARGV[1]) == ARGV[2] then return {'unchanged', version} end
version = version + 1
redis.call('HSET', KEYS[1], 'version', version, 'f:' .. ARGV[1], ARGV[2], 'fv:' .. ARGV[1], version, 'a:' .. ARGV[1], ARGV[3])
redis.call('HDEL', KEYS[1], 'ov:' .. ARGV[1])
if ARGV[5] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'uid', 'emitter', 'nsp', '/', 'type', '9', 'data', ARGV[5] .. version .. ARGV[6])
end
if ARGV[7] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'uid', 'emitter', 'nsp', '/', 'type', '3', 'data', ARGV[7] .. version .. ARGV[8])
end
return {'applied', version}
`;

/**
 * `open`, in Lua. KEYS as WRITE_SCRIPT; ARGV[1] the offer's version, then per field 8 values:
 * name, canonical JSON value, the version the offer knows it at, author JSON ("" = unknown), and
 * the `atelier:doc` / `doc:changed` messages around their version (as in WRITE_SCRIPT).
 *
 * No document: the offer seeds it at its version; `seeded` records that version and each field
 * keeps `ov:<field>`, the version the seeding offer knew it at, until someone writes the field
 * (WRITE_SCRIPT drops it). A document: a field still held from the seed takes the offer's value
 * when the offer knew it at a version from before the seed (< seeded: versions at or above it
 * come from this document, which the offer merely read) newer than `ov` — with the next version,
 * announced like a write. Returns {1, 0} when seeded, else {0, fields taken}.
 */
const OPEN_SCRIPT = `
local n = 8
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'version', ARGV[1], 'seeded', ARGV[1])
  for i = 2, #ARGV, n do
    redis.call('HSET', KEYS[1], 'f:' .. ARGV[i], ARGV[i + 1], 'fv:' .. ARGV[i], ARGV[1], 'ov:' .. ARGV[i], ARGV[i + 2])
    if ARGV[i + 3] ~= '' then redis.call('HSET', KEYS[1], 'a:' .. ARGV[i], ARGV[i + 3]) end
  end
  return {1, 0}
end
local seeded = tonumber(redis.call('HGET', KEYS[1], 'seeded') or '0')
local version = tonumber(redis.call('HGET', KEYS[1], 'version'))
local taken = 0
for i = 2, #ARGV, n do
  local held = redis.call('HGET', KEYS[1], 'ov:' .. ARGV[i])
  local known = tonumber(ARGV[i + 2])
  if held and known < seeded and known > tonumber(held) and redis.call('HGET', KEYS[1], 'f:' .. ARGV[i]) ~= ARGV[i + 1] then
    version = version + 1
    taken = taken + 1
    redis.call('HSET', KEYS[1], 'version', version, 'f:' .. ARGV[i], ARGV[i + 1], 'fv:' .. ARGV[i], version, 'ov:' .. ARGV[i], known)
    if ARGV[i + 3] ~= '' then redis.call('HSET', KEYS[1], 'a:' .. ARGV[i], ARGV[i + 3]) end
    if ARGV[i + 4] ~= '' then
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'uid', 'emitter', 'nsp', '/', 'type', '9', 'data', ARGV[i + 4] .. version .. ARGV[i + 5])
      redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'uid', 'emitter', 'nsp', '/', 'type', '3', 'data', ARGV[i + 6] .. version .. ARGV[i + 7])
    end
  end
end
return {0, taken}
`;

/** who a restored field is announced as changed by, when the offering node did not know */
const RESTORED_BY: Author = { userId: "atelier", name: "Atelier (restored)" };

/** A field's value as Redis keeps it: canonical JSON (the schema's output order); "" for an absent optional field. */
const encodeValue = (value: unknown): string => (value === undefined ? "" : JSON.stringify(value));

const sha1 = (script: string) => createHash("sha1").update(script).digest("hex");

export interface RedisDocumentStoreOptions {
  /** key prefix (the settings' redisPrefix) */
  keyPrefix: string;
  log: Logger;
  /**
   * Where accepted changes are announced: the streams adapter's stream (socket.io-adapter's
   * ClusterAdapter message format). Every write tells the other nodes there (`atelier:doc`), and
   * the room's clients when the write asks (`announce`). Without it, nothing is announced (the
   * caller does both).
   */
  announce?: { stream: string; roomKey: (roomId: string) => string };
}

/** a number no version ever is: the Lua script puts the version where it stands */
const VERSION_MARK = -918273645;

function splitAtVersion(message: string): [string, string] {
  const [head, tail] = message.split(String(VERSION_MARK)) as [string, string];
  return [head, tail];
}

export class RedisDocumentStore implements DocumentStore {
  readonly mayLoseDocuments = true;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisDocumentStoreOptions,
  ) {
    this.prefix = options.keyPrefix;
  }

  private key(roomId: string): string {
    return `${this.prefix}doc:${roomId}`;
  }

  /** EVALSHA, loading the script when Redis does not know it (first use, or after a restart). */
  private async run(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(sha1(script), keys.length, ...keys, ...args);
    } catch (error) {
      if (!String(error).includes("NOSCRIPT")) throw error;
      await this.redis.script("LOAD", script);
      return this.redis.evalsha(sha1(script), keys.length, ...keys, ...args);
    }
  }

  /**
   * The adapter messages of one write, split where its version goes: the inter-node `atelier:doc`
   * event (SERVER_SIDE_EMIT = 9) and, when asked, the clients' `doc:changed` broadcast (BROADCAST = 3).
   */
  private messagesAround(roomId: string, w: FieldWrite): { node: [string, string]; clients: [string, string] } {
    const announce = this.options.announce!;
    const node = JSON.stringify({
      packet: [
        "atelier:doc",
        {
          roomId,
          field: w.field,
          value: w.value,
          version: VERSION_MARK,
          authorId: w.author.userId,
          authorName: w.author.name,
        } satisfies InterNodePayload<"atelier:doc">,
      ],
    });
    const clients = w.announce
      ? JSON.stringify({
          packet: {
            type: 2,
            data: ["doc:changed", { roomId, field: w.field, value: w.value, author: w.author, version: VERSION_MARK }],
            nsp: "/",
          },
          opts: { rooms: [announce.roomKey(roomId)], except: [], flags: {} },
        })
      : "";
    return { node: splitAtVersion(node), clients: w.announce ? splitAtVersion(clients) : ["", ""] };
  }

  async open(roomId: string, offer: DocumentOffer): Promise<StoredDocument> {
    const args: (string | number)[] = [offer.version];
    for (const field of ROOM_FIELDS) {
      const value = offer.document[field];
      const author = offer.fieldAuthors?.[field];
      const messages = this.options.announce
        ? this.messagesAround(roomId, { field, value, author: author ?? RESTORED_BY, baseVersion: 0, announce: true })
        : null;
      args.push(
        field,
        encodeValue(value),
        offer.fieldVersions?.[field] ?? offer.version,
        author ? JSON.stringify(author) : "",
        ...(messages?.node ?? ["", ""]),
        ...(messages?.clients ?? ["", ""]),
      );
    }
    const [seeded, taken] = (await this.run(
      OPEN_SCRIPT,
      [this.key(roomId), this.options.announce?.stream ?? `${this.prefix}unused`],
      args,
    )) as [number, number];
    if (seeded === 1) this.options.log.info("doc_store.seeded", { roomId, version: offer.version });
    if (taken > 0) this.options.log.warn("doc_store.restored_fields", { roomId, fields: taken });
    const doc = await this.read(roomId);
    // a flush between the seed and the read: what was seeded is what Redis held a moment ago
    return (
      doc ?? {
        document: offer.document,
        version: offer.version,
        fieldVersions: Object.fromEntries(ROOM_FIELDS.map((f) => [f, offer.version])),
        fieldAuthors: {},
      }
    );
  }

  async read(roomId: string): Promise<StoredDocument | null> {
    const hash = await this.redis.hgetall(this.key(roomId));
    if (!hash.version) return null;
    const raw: Record<string, unknown> = {};
    const fieldVersions: Partial<Record<RoomField, number>> = {};
    const fieldAuthors: Partial<Record<RoomField, Author>> = {};
    for (const field of ROOM_FIELDS) {
      const json = hash[`f:${field}`];
      if (json) raw[field] = JSON.parse(json) as unknown;
      const fv = hash[`fv:${field}`];
      if (fv !== undefined) fieldVersions[field] = Number(fv);
      const author = hash[`a:${field}`];
      if (author !== undefined) fieldAuthors[field] = JSON.parse(author) as Author;
    }
    // what Redis holds is checked like the database's copy: a foreign write cannot break a room
    const parsed = parseRoomDocument(JSON.stringify(raw));
    if (parsed.issues.length > 0) this.options.log.warn("doc_store.repaired", { roomId, issues: parsed.issues });
    return { document: parsed.document, version: Number(hash.version), fieldVersions, fieldAuthors };
  }

  async write(roomId: string, w: FieldWrite): Promise<WriteOutcome> {
    const messages = this.options.announce ? this.messagesAround(roomId, w) : null;
    const reply = (await this.run(
      WRITE_SCRIPT,
      [this.key(roomId), this.options.announce?.stream ?? `${this.prefix}unused`],
      [
        w.field,
        encodeValue(w.value),
        JSON.stringify(w.author),
        w.ifFieldVersion ?? "",
        ...(messages?.node ?? ["", ""]),
        ...(messages?.clients ?? ["", ""]),
      ],
    )) as [WriteOutcome["status"], number];
    const [status, version] = reply;
    if (status === "missing") return { status, version: 0 };
    if (status === "applied")
      return {
        status,
        version: Number(version),
        announced: Boolean(messages && w.announce),
        nodesTold: messages !== null,
      };
    return { status, version: Number(version) };
  }

  release(): void {
    // the shared copy stays: other gateways serve the room too
  }

  async close(): Promise<void> {
    // the client is the cluster link's; it closes it
  }
}
