/**
 * Abuse limits over real sockets: sockets per user, coalesced presence, active runs per user,
 * and the operator's size/iteration caps (shown to clients in the room state).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeRoomDocument } from "@atelier/db";
import {
  activeRunLimitRefusal,
  DEFAULT_LIMITS,
  fieldLimitRefusal,
  runSizeRefusal,
  socketLimitRefusal,
} from "../src/common/limits.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  connect,
  createFixture,
  request,
  tinyDocument,
  startServer,
  waitFor,
  waitUntil,
  type Client,
  type Fixture,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const LIMITS = { socketsPerUser: 3, activeRunsPerUser: 2, maxSize: 128, maxIterations: 3000 };

describe("limit decisions (pure)", () => {
  const l = { ...DEFAULT_LIMITS, ...LIMITS };
  it("refuse at the cap, not below", () => {
    expect(socketLimitRefusal(2, l)).toBeNull();
    expect(socketLimitRefusal(3, l)).toMatch(/at most 3/);
    expect(activeRunLimitRefusal(1, l)).toBeNull();
    expect(activeRunLimitRefusal(2, l)).toMatch(/at most 2/);
    expect(runSizeRefusal({ size: 128, iterations: 3000 }, l)).toBeNull();
    expect(runSizeRefusal({ size: 129, iterations: 10 }, l)).toMatch(/128 px/);
    expect(runSizeRefusal({ size: 64, iterations: 3001 }, l)).toMatch(/3000 iterations/);
    expect(fieldLimitRefusal("size", 256, l)).toMatch(/128 px/);
    expect(fieldLimitRefusal("iterations", 3001, l)).toMatch(/3000/);
    expect(fieldLimitRefusal("styleWeight", 1e6, l)).toBeNull();
  });
});

describe("limits over real sockets", () => {
  let f: Fixture;
  let server: OptimizerServer;
  const open: Client[] = [];
  const track = (c: Client) => (open.push(c), c);

  beforeAll(async () => {
    f = await createFixture("limits");
    // iterations beyond what the runs here need: runs stay going while the caps are probed
    await f.db.room.update({
      where: { id: f.roomId },
      data: { document: serializeRoomDocument(tinyDocument(f, { iterations: 2500 })) },
    });
    server = await startServer(f, { limits: LIMITS });
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await server?.close();
    await f?.cleanup();
  });

  it("caps one user's open sockets; others are unaffected, and a closed one frees a place", async () => {
    const mine = [];
    for (let i = 0; i < LIMITS.socketsPerUser; i++) mine.push(track(await connect(server, f.users.outsider)));
    await expect(connect(server, f.users.outsider)).rejects.toMatchObject({ data: { code: "limit" } });
    track(await connect(server, f.users.viewer));
    mine[0]!.close();
    await expect
      .poll(
        async () => {
          try {
            track(await connect(server, f.users.outsider));
            return true;
          } catch {
            return false;
          }
        },
        { timeout: 30_000 },
      )
      .toBe(true);
  });

  it("a burst of focus changes gives a few presence broadcasts, ending with the latest focus", async () => {
    const editor = track(await connect(server, f.users.editor));
    const watcher = track(await connect(server, f.users.owner));
    // listening before the joins: the coalesced broadcast that shows both members may go out
    // before the second join's ack has reached the test
    const settled = waitFor(watcher, "presence", (p) => p.members.length === 2);
    for (const s of [editor, watcher])
      expect((await request(s, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    // let the join broadcasts settle: the one that shows the editor focused on nothing
    await settled;
    const seen = collect(watcher, "presence");
    const fields = ["styleWeight", "contentWeight", "tvWeight"] as const;
    const BURST = 300;
    const acks = [];
    for (let i = 0; i < BURST; i++)
      acks.push(request(editor, "presence:focus", { roomId: f.roomId, field: fields[i % 3] }));
    for (const a of await Promise.all(acks)) expect(a.ok).toBe(true);
    const last = fields[(BURST - 1) % 3];
    await expect
      .poll(() => seen.at(-1)?.members.find((m) => m.userId === f.users.editor.id)?.editingField, { timeout: 30_000 })
      .toBe(last);
    expect(seen.length).toBeLessThan(BURST / 10);
  });

  it("refuses runs over the operator's caps, and edits past them; the room state shows the caps", async () => {
    const owner = track(await connect(server, f.users.owner));
    const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!joined.ok) throw new Error(joined.error);
    expect(joined.state.limits).toEqual({ maxSize: 128, maxIterations: 3000 });
    const edit = await request(owner, "doc:edit", {
      roomId: f.roomId,
      field: "iterations",
      value: 4000,
      baseVersion: joined.state.version,
    });
    expect(edit).toMatchObject({ ok: false, code: "limit" });
    // a document that already asks for more (saved before the cap) cannot start
    const big = await f.db.room.create({
      data: {
        name: "Big",
        ownerId: f.users.owner.id,
        document: serializeRoomDocument(tinyDocument(f, { size: 256 })),
        members: { create: { userId: f.users.owner.id, role: "owner" } },
      },
    });
    expect((await request(owner, "room:join", { roomId: big.id, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    const start = await request(owner, "run:start", { roomId: big.id, restart: false });
    expect(start).toMatchObject({ ok: false, code: "limit", error: expect.stringMatching(/128 px/) });
    expect(await f.db.run.count({ where: { roomId: big.id } })).toBe(0);
  });

  it("caps one user's queued/running runs over all their rooms; a restart of their own run still works", async () => {
    const owner = track(await connect(server, f.users.owner));
    const rooms = [f.roomId];
    for (let i = 0; i < 2; i++) {
      const room = await f.db.room.create({
        data: {
          name: `Extra ${i}`,
          ownerId: f.users.owner.id,
          document: serializeRoomDocument(tinyDocument(f, { iterations: 2500 })),
          members: { create: { userId: f.users.owner.id, role: "owner" } },
        },
      });
      rooms.push(room.id);
    }
    for (const roomId of rooms)
      expect((await request(owner, "room:join", { roomId, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    expect((await request(owner, "run:start", { roomId: rooms[0], restart: false })).ok).toBe(true);
    expect((await request(owner, "run:start", { roomId: rooms[1], restart: false })).ok).toBe(true);
    const third = await request(owner, "run:start", { roomId: rooms[2], restart: false });
    expect(third).toMatchObject({ ok: false, code: "limit" });
    expect(await f.db.run.count({ where: { roomId: rooms[2] } })).toBe(0);
    // restarting one of the two replaces it: still two
    expect((await request(owner, "run:start", { roomId: rooms[1], restart: true })).ok).toBe(true);
    expect(await f.db.run.count({ where: { authorId: f.users.owner.id, status: { in: ["queued", "running"] } } })).toBe(
      2,
    );
    // another user is not affected by the owner's runs
    const editor = track(await connect(server, f.users.editor));
    expect((await request(editor, "room:join", { roomId: rooms[0], protocol: PROTOCOL_VERSION })).ok).toBe(true);
    for (const roomId of rooms.slice(0, 2)) expect((await request(owner, "run:cancel", { roomId })).ok).toBe(true);
    expect((await request(editor, "run:start", { roomId: rooms[0], restart: false })).ok).toBe(true);
    expect((await request(editor, "run:cancel", { roomId: rooms[0] })).ok).toBe(true);
  });

  it("a sweep counts as one active job against the same cap as runs; cancelling it frees its slot", async () => {
    // a user the tests above left no sockets open for (3 per user here)
    const owner = track(await connect(server, f.users.viewer));
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) {
      const room = await f.db.room.create({
        data: {
          name: `Sweep cap ${i}`,
          ownerId: f.users.viewer.id,
          document: serializeRoomDocument(tinyDocument(f, { iterations: 2500 })),
          members: { create: { userId: f.users.viewer.id, role: "owner" } },
        },
      });
      rooms.push(room.id);
      expect((await request(owner, "room:join", { roomId: room.id, protocol: PROTOCOL_VERSION })).ok).toBe(true);
    }
    const axes = [{ param: "styleWeight" as const, values: [1, 10, 100, 1000] }];
    const sweep = await request(owner, "sweep:start", { roomId: rooms[0]!, axes, size: 128, iterations: 200 });
    if (!sweep.ok) throw new Error(sweep.error);
    expect((await request(owner, "run:start", { roomId: rooms[1]!, restart: false })).ok).toBe(true);
    // at the cap: neither a run nor a sweep more
    expect(await request(owner, "run:start", { roomId: rooms[2]!, restart: false })).toMatchObject({
      ok: false,
      code: "limit",
      error: expect.stringMatching(/runs or sweeps/),
    });
    expect(await request(owner, "sweep:start", { roomId: rooms[2]!, axes, size: 64, iterations: 3 })).toMatchObject({
      ok: false,
      code: "limit",
    });
    expect(await f.db.sweep.count({ where: { roomId: rooms[2]! } })).toBe(0);
    const cancelled = await request(owner, "sweep:cancel", { roomId: rooms[0]!, sweepId: sweep.sweep.sweepId });
    if (!cancelled.ok) throw new Error(cancelled.error);
    await waitUntil(
      async () => (await f.db.sweep.findUniqueOrThrow({ where: { id: sweep.sweep.sweepId } })).status === "ended",
      "the cancelled sweep's row ended",
    );
    expect((await request(owner, "run:start", { roomId: rooms[2]!, restart: false })).ok).toBe(true);
    for (const roomId of rooms.slice(1)) expect((await request(owner, "run:cancel", { roomId })).ok).toBe(true);
  });
});
