/**
 * Two optimiser nodes sharing rooms through the local Redis (REDIS_URL, default
 * redis://127.0.0.1:6379): members on different nodes see each other, edits, and the
 * previews of a run held by the other node. Both nodes are of role "all": gateway and worker of
 * the cluster's run queue (BullMQ), so the run goes to whichever node's worker takes it.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
  createFixture,
  request,
  startServer,
  waitFor,
  type Client,
  type Fixture,
  joinRoom,
} from "./support.ts";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** this file's own cluster-run keys (queue, run bus), so parallel test files never share jobs */
const PREFIX = `atelier-test-${randomUUID().slice(0, 8)}:`;

let f: Fixture;
let node1: OptimizerServer;
let node2: OptimizerServer;
const clients: Client[] = [];

beforeAll(async () => {
  f = await createFixture("cluster");
  node1 = await startServer(f, { redisUrl: REDIS_URL, redisPrefix: PREFIX });
  node2 = await startServer(f, { redisUrl: REDIS_URL, redisPrefix: PREFIX });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await node1?.close();
  await node2?.close();
  await f?.cleanup();
});

async function joinOn(server: OptimizerServer, user: Fixture["users"]["owner"]) {
  return joinRoom(server, user, f.roomId, clients);
}

describe("two nodes through Redis", () => {
  it("share presence, edits and a run's previews", async () => {
    expect(node1.port).not.toBe(node2.port);
    const a = await joinOn(node1, f.users.owner);
    const bothSeen = waitFor(a.socket, "presence", (p) => p.members.length === 2);
    const b = await joinOn(node2, f.users.editor);
    expect((await bothSeen).members.map((m) => m.name).sort()).toEqual(["Ada", "Bob"]);
    expect(b.state.members.map((m) => m.name).sort()).toEqual(["Ada", "Bob"]);

    // an edit on node 1 reaches the member on node 2, and node 2's copy of the document
    const seen = waitFor(b.socket, "doc:changed", (p) => p.field === "styleWeight");
    const r = await request(a.socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 321,
      baseVersion: a.state.version,
    });
    expect(r.ok).toBe(true);
    expect(await seen).toMatchObject({ value: 321, author: { name: "Ada" }, version: a.state.version + 1 });
    const fresh = await joinOn(node2, f.users.viewer);
    expect(fresh.state.document.styleWeight).toBe(321);
    expect(fresh.state.version).toBe(a.state.version + 1);
    expect(fresh.state.fieldAuthors.styleWeight).toEqual({ userId: f.users.owner.id, name: "Ada" });

    // a run started on node 1 streams to the member on node 2
    const previews = collect(b.socket, "run:preview");
    const done = waitFor(b.socket, "run:update", (p) => p.run.status === "completed");
    const started = await request(a.socket, "run:start", { roomId: f.roomId });
    expect(started.ok).toBe(true);
    const finished = await done;
    expect(finished.run.iteration).toBe(10);
    expect(previews.length).toBeGreaterThanOrEqual(1);
    expect(Buffer.from(previews.at(-1)!.data as Uint8Array).byteLength).toBeGreaterThan(100);
    // node 2 can not hold a second run in the room meanwhile: it knows the room's run
    const late = await joinOn(node2, f.users.owner);
    expect(late.state.run).toMatchObject({ status: "completed", iteration: 10 });
  });
});
