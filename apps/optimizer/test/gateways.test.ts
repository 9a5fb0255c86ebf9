/**
 * Stateless gateways sharing one Redis (keys under this file's own prefix): a client that
 * reconnects through ANOTHER gateway recovers its session and the events it missed
 * (connection-state recovery over the streams adapter); a membership change posted to one
 * gateway reaches the member's sockets on the other at once; a document Redis lost comes back
 * whole with higher versions; strokes painted through both gateways at once are all kept; long sessions — a socket whose
 * token expires without a fresh one is told and disconnected, one that sends fresh tokens stays.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signMembershipChange } from "@atelier/protocol/token";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { sessionVerdict } from "../src/gateway/session-check.ts";
import {
  SECRET,
  type connect,
  createFixture,
  request,
  startServer,
  tokenFor,
  waitFor,
  type Client,
  type Fixture,
  joinRoom,
} from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SESSION_CHECK_MS = 200;

let f: Fixture;
let gw1: OptimizerServer;
let gw2: OptimizerServer;
let redis: Redis;
let redisPrefix: string;
const clients: Client[] = [];

beforeAll(async () => {
  f = await createFixture("gateways");
  redisPrefix = `atelier-test-${randomUUID().slice(0, 8)}:`;
  redis = new Redis(REDIS_URL);
  const options = { redisUrl: REDIS_URL, redisPrefix, sessionCheckMs: SESSION_CHECK_MS };
  gw1 = await startServer(f, options);
  gw2 = await startServer(f, options);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await gw1?.close();
  await gw2?.close();
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  await f?.cleanup();
});

async function joined(gateway: OptimizerServer, auth: Parameters<typeof connect>[1]) {
  return joinRoom(gateway, auth, f.roomId, clients);
}

const notify = (server: OptimizerServer, change: { roomId: string; userId: string }) =>
  fetch(`${server.url}/internal/membership`, {
    method: "POST",
    headers: { authorization: `Bearer ${signMembershipChange(change, SECRET)}` },
  });

describe("sessionVerdict", () => {
  it("ends sessions of expired tokens and of accounts that are gone", () => {
    const now = 1_000_000;
    expect(sessionVerdict({ tokenExpiresAt: now + 1, userExists: true }, now)).toEqual({ ok: true });
    expect(sessionVerdict({ tokenExpiresAt: now, userExists: true }, now)).toMatchObject({ ok: false });
    expect(sessionVerdict({ tokenExpiresAt: now + 1e6, userExists: false }, now)).toMatchObject({
      ok: false,
      reason: "your account no longer exists",
    });
  });
});

describe("two gateways", () => {
  it("recover a client's session and missed edits when it reconnects through the other gateway", async () => {
    const owner = await joined(gw1, f.users.owner);
    const editor = await joined(gw2, f.users.editor);
    const moved = waitFor(owner.socket, "doc:changed", (p) => p.field === "tvWeight" && p.value === 0.25);
    await request(editor.socket, "doc:edit", { roomId: f.roomId, field: "tvWeight", value: 0.25, baseVersion: 0 });
    await moved; // the owner has an offset to resume from

    // the owner's connection drops; its client comes back through gateway 2
    const manager = owner.socket.io as unknown as { uri: string; engine: { close(): void } };
    manager.uri = gw2.url;
    const back = new Promise<void>((resolve) => owner.socket.once("connect", () => resolve()));
    const missed = waitFor(owner.socket, "doc:changed", (p) => p.field === "styleWeight" && p.value === 4321);
    manager.engine.close();
    // an edit while it is away
    const edit = await request(editor.socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 4321,
      baseVersion: 0,
    });
    expect(edit.ok).toBe(true);
    await back;
    expect(owner.socket.recovered).toBe(true);
    // the missed edit arrives without a new join, and the session still holds the room
    expect((await missed).version).toBe(edit.ok ? edit.version : -1);
    const after = await request(owner.socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 1234,
      baseVersion: 0,
    });
    expect(after.ok).toBe(true);
    const health = (await (await fetch(`${gw2.url}/health`)).json()) as { sockets: number };
    expect(health.sockets).toBeGreaterThanOrEqual(2);
  });

  it("keep every stroke painted through both gateways at once (conditional writes of masks)", async () => {
    const a = await joined(gw1, f.users.owner);
    const b = await joined(gw2, f.users.editor);
    const styleImageId = f.styleImageIds[0]!;
    const stroke = (strokeId: string) => ({ strokeId, tool: "brush", size: 0.05, points: [[0.5, 0.5]] });
    const PER_GATEWAY = 12;
    const replies = await Promise.all([
      ...Array.from({ length: PER_GATEWAY }, (_, i) =>
        request(a.socket, "mask:edit", { op: "stroke", roomId: f.roomId, styleImageId, stroke: stroke(`a-${i}`) }),
      ),
      ...Array.from({ length: PER_GATEWAY }, (_, i) =>
        request(b.socket, "mask:edit", { op: "stroke", roomId: f.roomId, styleImageId, stroke: stroke(`b-${i}`) }),
      ),
    ]);
    for (const reply of replies) expect(reply).toMatchObject({ ok: true });
    const late = await joined(gw1, f.users.viewer);
    const layer = late.state.document.masks[styleImageId];
    expect(layer?.strokes.map((s) => s.strokeId).sort()).toEqual(
      [
        ...Array.from({ length: PER_GATEWAY }, (_, i) => `a-${i}`),
        ...Array.from({ length: PER_GATEWAY }, (_, i) => `b-${i}`),
      ].sort(),
    );
  });

  it("seed a document Redis lost again, from the gateway's copy, with higher versions", async () => {
    const a = await joined(gw1, f.users.owner);
    const before = await request(a.socket, "doc:edit", {
      roomId: f.roomId,
      field: "contentWeight",
      value: 7.5,
      baseVersion: 0,
    });
    if (!before.ok) throw new Error(before.error);
    // Redis loses the document (a restart of a Redis that keeps nothing on disk, a flush)
    await redis.del(`${redisPrefix}doc:${f.roomId}`);
    const heard = waitFor(a.socket, "doc:changed", (p) => p.field === "tvWeight" && p.value === 0.125);
    const after = await request(a.socket, "doc:edit", {
      roomId: f.roomId,
      field: "tvWeight",
      value: 0.125,
      baseVersion: 0,
    });
    if (!after.ok) throw new Error(after.error);
    expect(after.version).toBeGreaterThan(before.version + 1000 - 1);
    expect((await heard).version).toBe(after.version);
    // nothing accepted before the loss is lost, on either gateway
    const late = await joined(gw2, f.users.viewer);
    expect(late.state.version).toBe(after.version);
    expect(late.state.document).toMatchObject({ contentWeight: 7.5, tvWeight: 0.125 });
  });

  it("apply a membership change posted to one gateway to the member's sockets on the other", async () => {
    const member = await f.db.user.create({ data: { name: "Eve", email: "eve@gateways.test" } });
    await f.db.roomMember.create({ data: { roomId: f.roomId, userId: member.id, role: "editor" } });
    const eve = await joined(gw2, { id: member.id, name: "Eve" });
    expect(eve.state.role).toBe("editor");

    // downgraded: the new role reaches her socket on gateway 2 at once
    await f.db.roomMember.update({
      where: { roomId_userId: { roomId: f.roomId, userId: member.id } },
      data: { role: "viewer" },
    });
    const demoted = waitFor(eve.socket, "room:state", (s) => s.role === "viewer", 10_000);
    const res = await notify(gw1, { roomId: f.roomId, userId: member.id });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { sockets: number }).sockets).toBe(1);
    await demoted;

    // removed: her socket leaves the room and is told so
    await f.db.roomMember.delete({ where: { roomId_userId: { roomId: f.roomId, userId: member.id } } });
    const removed = waitFor(eve.socket, "room:error", (e) => e.code === "forbidden", 10_000);
    await notify(gw1, { roomId: f.roomId, userId: member.id });
    await removed;
    const refused = await request(eve.socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 1,
      baseVersion: 0,
    });
    expect(refused).toMatchObject({ ok: false, code: "forbidden" });
  });

  it("disconnect a socket whose token expires, and keep one that sends fresh tokens", async () => {
    const short = () => tokenFor(f.users.viewer, 2);
    const lapsing = await joined(gw1, { token: short() });
    const refreshed = await joined(gw2, { token: short() });

    // a refresh must be a valid token of the same user
    expect(await request(refreshed.socket, "auth:refresh", { token: "forged.token" })).toMatchObject({
      ok: false,
      code: "unauthorized",
    });
    expect(await request(refreshed.socket, "auth:refresh", { token: tokenFor(f.users.owner) })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    const keepAlive = setInterval(() => void request(refreshed.socket, "auth:refresh", { token: short() }), 500);
    try {
      const told = waitFor(lapsing.socket, "room:error", (e) => e.code === "unauthorized", 10_000);
      const gone = new Promise<string>((resolve) => lapsing.socket.once("disconnect", resolve));
      expect((await told).error).toMatch(/expired/);
      expect(await gone).toBe("io server disconnect");
      // past its first token's expiry, the refreshed socket still works
      const still = await request(refreshed.socket, "history:list", { roomId: f.roomId });
      expect(still.ok).toBe(true);
      expect(refreshed.socket.connected).toBe(true);
    } finally {
      clearInterval(keepAlive);
    }
  });
});
