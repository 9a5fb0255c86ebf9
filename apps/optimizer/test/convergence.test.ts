/**
 * Convergence of the co-edited document across gateways: 2 gateways sharing one Redis (keys
 * under this file's own prefix), 10 editors spread over them, 500 random edits sent
 * concurrently to one room. Every client applies what it hears as the studio does (per field,
 * the higher version wins). Then: one version per accepted edit (no two gateways hand out the
 * same one), every client heard every edit once and in strictly increasing version order, all
 * clients and a late joiner on each gateway hold the same document, no accepted edit is lost,
 * and the database holds it too.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, ROOM_FIELDS, type RoomDocument, type RoomField } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { connect, createFixture, request, startServer, waitUntil, type Client, type Fixture } from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CLIENTS = 10;
const EDITS = 500;
/** edits in flight at once (all clients together) */
const IN_FLIGHT = 50;
const FIELDS = ["styleWeight", "contentWeight", "tvWeight"] as const satisfies readonly RoomField[];

/** A client's copy of the document, kept as the studio keeps it (apps/web room-store: LWW per field by version). */
interface ClientView {
  socket: Client;
  document: RoomDocument;
  fieldVersions: Record<string, number>;
  version: number;
  /** every doc:changed heard: [version, field, value] */
  heard: [number, RoomField, unknown][];
  /** changes heard after a higher version of the same field (delivery order ≠ version order) */
  outOfOrder: number;
}

let f: Fixture;
let gateways: OptimizerServer[] = [];
const sockets: Client[] = [];
const redisPrefix = `atelier-test-${randomUUID().slice(0, 8)}:`;

beforeAll(async () => {
  f = await createFixture("convergence");
  gateways = [
    await startServer(f, { redisUrl: REDIS_URL, redisPrefix }),
    await startServer(f, { redisUrl: REDIS_URL, redisPrefix }),
  ];
});

afterAll(async () => {
  for (const s of sockets) s.close();
  for (const g of gateways) await g.close();
  await f?.cleanup();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

async function joinAs(gateway: OptimizerServer, i: number): Promise<ClientView> {
  const user = await f.db.user.create({ data: { name: `Editor ${i}`, email: `editor${i}@convergence.test` } });
  await f.db.roomMember.create({ data: { roomId: f.roomId, userId: user.id, role: "editor" } });
  const socket = await connect(gateway, { id: user.id, name: `Editor ${i}` });
  sockets.push(socket);
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  const view: ClientView = {
    socket,
    document: reply.state.document,
    // everything up to the snapshot's version is in the snapshot
    fieldVersions: Object.fromEntries(ROOM_FIELDS.map((field) => [field, reply.state.version])),
    version: reply.state.version,
    heard: [],
    outOfOrder: 0,
  };
  socket.on("doc:changed", (p) => {
    view.heard.push([p.version, p.field, p.value]);
    if (p.version <= view.fieldVersions[p.field]!) {
      view.outOfOrder++;
      return;
    }
    view.document = { ...view.document, [p.field]: p.value };
    view.fieldVersions[p.field] = p.version;
    view.version = Math.max(view.version, p.version);
  });
  return view;
}

describe("2 gateways × 10 clients × 500 concurrent edits", () => {
  it("converge on one document with one version per edit and no accepted edit lost", async () => {
    const views = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => joinAs(gateways[i % 2]!, i)));
    const startVersion = views[0]!.version;
    const started = Date.now();

    // every edit a distinct value, so each one changes its field
    const acked: { field: RoomField; value: number; version: number }[] = [];
    let next = 0;
    const sendOne = async (): Promise<void> => {
      while (next < EDITS) {
        const i = next++;
        const view = views[Math.floor(Math.random() * CLIENTS)]!;
        const field = FIELDS[Math.floor(Math.random() * FIELDS.length)]!;
        const value = 1 + i / 1000;
        const reply = await request(view.socket, "doc:edit", {
          roomId: f.roomId,
          field,
          value,
          baseVersion: view.version,
        });
        if (!reply.ok) throw new Error(`edit ${i} refused: ${reply.error}`);
        acked.push({ field, value, version: reply.version });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sendOne));
    const editsMs = Date.now() - started;

    // one version per accepted edit, none skipped: no two gateways handed out the same one
    const versions = acked.map((a) => a.version).sort((a, b) => a - b);
    expect(new Set(versions).size).toBe(EDITS);
    expect(versions[0]).toBe(startVersion + 1);
    expect(versions.at(-1)).toBe(startVersion + EDITS);
    const finalVersion = startVersion + EDITS;

    // every client hears every edit, each version once
    await waitUntil(() => views.every((v) => v.heard.length >= EDITS), "every client heard every edit", 30_000);
    const byVersion = new Map(acked.map((a) => [a.version, a]));
    for (const view of views) {
      expect(view.heard.length).toBe(EDITS);
      expect(new Set(view.heard.map(([v]) => v)).size).toBe(EDITS);
      for (const [version, field, value] of view.heard)
        expect(byVersion.get(version)).toEqual({ field, value, version });
      // versions strictly increase in the order this client heard them (the store announces each
      // change through the adapter's stream in version order), and the view ends at the last one
      for (let k = 1; k < view.heard.length; k++) expect(view.heard[k]![0]).toBeGreaterThan(view.heard[k - 1]![0]);
      expect(view.outOfOrder).toBe(0);
      expect(view.version).toBe(finalVersion);
    }

    // one document everywhere, a late joiner's included (each gateway's own view of it)
    const lateJoins = await Promise.all(
      gateways.map(async (g) => {
        const socket = await connect(g, f.users.owner);
        sockets.push(socket);
        const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
        if (!reply.ok) throw new Error(reply.error);
        return reply.state;
      }),
    );
    for (const state of lateJoins) expect(state.version).toBe(finalVersion);
    const final = lateJoins[0]!.document;
    for (const state of lateJoins) expect(state.document).toEqual(final);
    for (const view of views) expect(view.document).toEqual(final);

    // no accepted edit lost: each is its field's final value, or a later edit of the field superseded it
    for (const field of FIELDS) {
      const ofField = acked.filter((a) => a.field === field).sort((a, b) => a.version - b.version);
      if (ofField.length === 0) continue;
      const last = ofField.at(-1)!;
      expect(final[field]).toBe(last.value);
      for (const view of views) expect(view.fieldVersions[field]).toBe(last.version);
    }

    // and the database holds it once the gateways have flushed
    for (const g of gateways) await g.close();
    const row = await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } });
    expect(row.version).toBe(finalVersion);
    expect(JSON.parse(row.document)).toMatchObject(Object.fromEntries(FIELDS.map((field) => [field, final[field]])));

    console.log(
      `convergence: ${EDITS} edits by ${CLIENTS} clients over 2 gateways in ${editsMs} ms, all heard in version order`,
    );
  });
});
