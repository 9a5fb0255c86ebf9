/**
 * Starts and restarts racing in one room, over real sockets: one active run per room, the
 * others refused with `conflict`, and `run:cancel` ending every active run of the room.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ack, RunInfo } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  connect,
  createFixture,
  request,
  setDocument,
  startServer,
  tinyDocument,
  type Client,
  type Fixture,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

let f: Fixture;
let server: OptimizerServer;
const sockets: Client[] = [];
const N = 6;

const activeRows = () => f.db.run.findMany({ where: { roomId: f.roomId, status: { in: ["queued", "running"] } } });

async function cancelEverything(): Promise<void> {
  await request(sockets[0]!, "run:cancel", { roomId: f.roomId });
  expect(await activeRows()).toEqual([]);
}

beforeAll(async () => {
  f = await createFixture("races");
  // long enough that a run is still going while the restarts arrive
  await setDocument(f, tinyDocument(f, { iterations: 5000 }));
  server = await startServer(f, { limits: { maxIterations: 5000 } });
  // N sockets of two editors (owner and editor), all in the room
  for (let i = 0; i < N; i++) {
    const socket = await connect(server, i % 2 ? f.users.editor : f.users.owner);
    const joined = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!joined.ok) throw new Error(joined.error);
    sockets.push(socket);
  }
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
  await f?.cleanup();
});

const startAll = (restart: boolean) =>
  Promise.all(sockets.map((s) => request(s, "run:start", { roomId: f.roomId, restart })));

function split(replies: Ack<{ run: RunInfo }>[]) {
  const accepted = replies.filter((r) => r.ok);
  const refused = replies.filter((r) => !r.ok);
  return { accepted, refused };
}

describe("concurrent starts in one room", () => {
  it(`${N} simultaneous starts: one run, the others get conflict`, async () => {
    const { accepted, refused } = split(await startAll(false));
    expect(accepted).toHaveLength(1);
    expect(refused.map((r) => !r.ok && r.code)).toEqual(Array(N - 1).fill("conflict"));
    expect(await activeRows()).toHaveLength(1);
    await cancelEverything();
  });

  it(`${N} simultaneous restarts of a going run: one active run at the end, cancel stops it`, async () => {
    const first = await request(sockets[0]!, "run:start", { roomId: f.roomId, restart: false });
    if (!first.ok) throw new Error(first.error);

    const { accepted, refused } = split(await startAll(true));
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    // they all arrived while the first restart was stopping the going run
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const r of refused) expect(!r.ok && r.code).toBe("conflict");

    const active = await activeRows();
    expect(active).toHaveLength(1);
    const acceptedIds = accepted.map((r) => (r.ok ? r.run.runId : ""));
    // the one left going is the last accepted restart; the first run and earlier restarts ended
    expect(acceptedIds).toContain(active[0]!.id);
    const ended = await f.db.run.findMany({ where: { id: { in: [first.run.runId, ...acceptedIds] } } });
    expect(ended.filter((r) => r.status === "queued" || r.status === "running")).toHaveLength(1);

    const cancel = await request(sockets[3]!, "run:cancel", { roomId: f.roomId });
    expect(cancel.ok).toBe(true);
    expect(await activeRows()).toEqual([]);
  });

  it("the database refuses a second active run even when this node does not know the first", async () => {
    // another node (or a process the service does not see) holds the room's active slot
    const other = await f.db.run.create({
      data: {
        roomId: f.roomId,
        authorId: f.users.owner.id,
        params: "{}",
        seed: 1,
        status: "running",
        activeRoomId: f.roomId,
      },
    });
    const reply = await request(sockets[1]!, "run:start", { roomId: f.roomId, restart: false });
    expect(reply).toMatchObject({ ok: false, code: "conflict" });
    expect((await activeRows()).map((r) => r.id)).toEqual([other.id]);
    await f.db.run.update({ where: { id: other.id }, data: { status: "cancelled", activeRoomId: null } });
  });

  it("cancel with nothing going answers not_found and changes nothing", async () => {
    const reply = await request(sockets[2]!, "run:cancel", { roomId: f.roomId });
    expect(reply).toMatchObject({ ok: false, code: "not_found" });
  });
});
