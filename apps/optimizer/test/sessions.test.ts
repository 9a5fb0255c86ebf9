/**
 * Issue 26, item 9, against two gateways sharing one Redis (keys under this file's own prefix):
 * a sign-out posted to one gateway ends that user's sockets of older session generations on
 * both at once (not at the periodic check, not at the token's expiry), and an old token is
 * refused from then on; a member removed or demoted during a short disconnect comes back —
 * connection-state recovery, through the other gateway — without the room or with the new role.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "@atelier/protocol";
import { signRealtimeToken, signSessionEnded } from "@atelier/protocol/token";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  SECRET,
  connect,
  createFixture,
  request,
  startServer,
  waitFor,
  type Client,
  type Fixture,
  type TestUser,
} from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

let f: Fixture;
let gw1: OptimizerServer;
let gw2: OptimizerServer;
let redis: Redis;
let redisPrefix: string;
const clients: Client[] = [];

beforeAll(async () => {
  f = await createFixture("sessions");
  redisPrefix = `atelier-test-${randomUUID().slice(0, 8)}:`;
  redis = new Redis(REDIS_URL);
  // the periodic check is far off: only the sign-out message can end a session in these tests
  const options = { redisUrl: REDIS_URL, redisPrefix, sessionCheckMs: 10 * 60_000 };
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

const tokenOf = (user: TestUser, generation: number) => signRealtimeToken({ ...user, generation }, SECRET);

async function joined(gateway: OptimizerServer, auth: Parameters<typeof connect>[1]) {
  const socket = await connect(gateway, auth);
  clients.push(socket);
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  return { socket, state: reply.state };
}

async function newMember(name: string, role: "editor" | "viewer"): Promise<TestUser> {
  const user = await f.db.user.create({ data: { name, email: `${name.toLowerCase()}@sessions.test` } });
  await f.db.roomMember.create({ data: { roomId: f.roomId, userId: user.id, role } });
  return { id: user.id, name };
}

describe("sessions end everywhere at sign-out", () => {
  it("drops the user's older sockets on every gateway at once, and refuses their old tokens", async () => {
    const user = await newMember("Sam", "editor");
    const here = await joined(gw1, { token: tokenOf(user, 0) });
    const there = await joined(gw2, { token: tokenOf(user, 0) });
    // the web app signs out: generation 1 in the database, then the message to one gateway
    await f.db.user.update({ where: { id: user.id }, data: { sessionGeneration: 1 } });
    // each is told why (room:error) before it is dropped; on a loaded machine the drop may
    // overtake the message, so the drop is what must happen, the words when they arrive
    const told: string[] = [];
    for (const { socket } of [here, there]) socket.on("room:error", (e) => told.push(e.error));
    const gone = [here, there].map(
      ({ socket }) => new Promise<string>((resolve) => socket.once("disconnect", resolve)),
    );
    const started = Date.now();
    const res = await fetch(`${gw1.url}/internal/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${signSessionEnded({ userId: user.id, generation: 1 }, SECRET)}` },
    });
    expect(res.status).toBe(200);
    for (const g of gone) expect(await g).toBe("io server disconnect");
    for (const error of told) expect(error).toMatch(/signed out/);
    // well before any periodic check could have (10 minutes away)
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const { socket } of [here, there]) socket.close();

    // the old token no longer opens a socket on either gateway; a token of the new generation does
    for (const gw of [gw1, gw2]) await expect(connect(gw, { token: tokenOf(user, 0) })).rejects.toThrow(/signed out/);
    const fresh = await joined(gw2, { token: tokenOf(user, 1) });
    expect(fresh.state.role).toBe("editor");

    // a forged or user-token message is refused and ends nothing
    const forged = await fetch(`${gw1.url}/internal/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenOf(user, 5)}` },
    });
    expect(forged.status).toBe(401);
    expect(fresh.socket.connected).toBe(true);
  });
});

describe("a reconnect reads the role again, recovered or not", () => {
  let edits = 0;
  /** drops the socket's connection; its client comes back (recovering its session) through `to` */
  async function reconnectThrough(socket: Client, to: OptimizerServer, meanwhile: () => Promise<void>) {
    // a session is recovered from the last room event the client saw: give it one
    const owner = await joined(to, f.users.owner);
    const value = 100 + ++edits;
    const seen = waitFor(socket, "doc:changed", (p) => p.field === "styleWeight" && p.value === value, 10_000);
    const edit = await request(owner.socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value,
      baseVersion: 0,
    });
    if (!edit.ok) throw new Error(edit.error);
    await seen;
    const manager = socket.io as unknown as { uri: string; engine: { close(): void } };
    manager.uri = to.url;
    const back = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    manager.engine.close();
    await meanwhile();
    await back;
  }

  it("a member removed while away comes back without the room", async () => {
    const user = await newMember("Rita", "editor");
    const { socket } = await joined(gw1, user);
    await reconnectThrough(socket, gw2, async () => {
      // removed without a word to the service (as if its announcement were lost)
      await f.db.roomMember.delete({ where: { roomId_userId: { roomId: f.roomId, userId: user.id } } });
    });
    expect(socket.recovered).toBe(true);
    const edit = await request(socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 9,
      baseVersion: 0,
    });
    expect(edit).toMatchObject({ ok: false, code: "forbidden" });
    // and hears nothing more of the room
    let heard = 0;
    socket.on("doc:changed", () => heard++);
    const owner = await joined(gw2, f.users.owner);
    const seen = waitFor(owner.socket, "doc:changed", (p) => p.field === "tvWeight" && p.value === 0.5);
    await request(owner.socket, "doc:edit", { roomId: f.roomId, field: "tvWeight", value: 0.5, baseVersion: 0 });
    await seen;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(heard).toBe(0);
  });

  it("a member demoted while away comes back with the new role", async () => {
    const user = await newMember("Vic", "editor");
    const { socket } = await joined(gw2, user);
    await reconnectThrough(socket, gw1, async () => {
      await f.db.roomMember.update({
        where: { roomId_userId: { roomId: f.roomId, userId: user.id } },
        data: { role: "viewer" },
      });
    });
    expect(socket.recovered).toBe(true);
    const edit = await request(socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 8,
      baseVersion: 0,
    });
    expect(edit).toMatchObject({ ok: false, code: "forbidden" });
    expect(await request(socket, "history:list", { roomId: f.roomId })).toMatchObject({ ok: true });
  });
});
