/**
 * Chaos: Redis restarts (kill -9, then a fresh empty server on the same port: the machine's Redis
 * keeps nothing on disk) while two gateways' clients edit the room and a run goes. Afterwards the
 * gateways must talk to each other again through Redis, the run must end, and no edit the service
 * accepted may be lost: the room's document is the last accepted value of each field, on every
 * gateway and in the database, and no two accepted edits share a version.
 * A private redis-server (support-chaos.ts), never the machine's. PostgreSQL pass only.
 *
 * An edit's ack may come only after Redis is back (ioredis holds commands while it reconnects and
 * sends them then): the edits wait for it (EDIT_ACK_MS), so an edit applied late is not counted
 * as refused while it is the last writer of its field.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument } from "@atelier/db";
import { testDatabaseProvider } from "@atelier/db/testing";
import {
  expectedValues,
  startChaosCluster,
  tryEdit,
  type AcceptedEdit,
  type ChaosCluster,
  type NodeProcess,
  type RoomView,
} from "./support-cluster.ts";
import { request, sleep, waitUntil } from "./support.ts";

/** long enough for an edit sent during the outage to be answered once Redis is back */
const EDIT_ACK_MS = 15_000;

describe.runIf(testDatabaseProvider() === "postgresql")("chaos: Redis restarts", () => {
  let cluster: ChaosCluster;

  beforeAll(async () => {
    cluster = await startChaosCluster("chaos-redis", { iterations: 150, gateways: 2, workers: 1 });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("everything reconnects, the run ends and no accepted edit is lost", async () => {
    const { f, redis } = cluster;
    const [g1, g2] = cluster.gateways as [NodeProcess, NodeProcess];
    const owner = await cluster.open(g1.url, f.users.owner);
    const editor = await cluster.open(g2.url, f.users.editor);
    const members = [owner, editor];
    const started = await request(owner.socket, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;

    // both members edit the same field all through the fault: last writer wins, by version
    const edits = { accepted: [] as AcceptedEdit[], refused: 0 };
    let editing = true;
    let counter = 0;
    const editLoop = async (view: RoomView) => {
      while (editing) {
        await tryEdit(view, f.roomId, "styleWeight", 1000 + counter++, edits, EDIT_ACK_MS);
        await sleep(50);
      }
    };
    const loops = [editLoop(owner), editLoop(editor)];

    await sleep(1_000);
    const acceptedBefore = edits.accepted.length;
    await redis.kill();
    const killedAt = Date.now();
    await sleep(2_000);
    await redis.start();
    const restartedAt = Date.now();

    // recovered = an edit made on gateway-1 reaches the member on gateway-2 again
    let recoveredAt = 0;
    await waitUntil(
      async () => {
        const value = 5_000 + counter++;
        if (!(await tryEdit(owner, f.roomId, "contentWeight", value, edits, EDIT_ACK_MS))) return false;
        const deadline = Date.now() + 500;
        while (Date.now() < deadline) {
          if (editor.document?.contentWeight === value) return (recoveredAt = Date.now()) > 0;
          await sleep(20);
        }
        return false;
      },
      "edits on gateway-1 reach gateway-2 again after the Redis restart",
      30_000,
      100,
    );
    await sleep(1_000);
    editing = false;
    await Promise.all(loops);
    console.log(
      `[chaos] Redis kill -9 for ${restartedAt - killedAt} ms → cross-gateway edits again ${recoveredAt - restartedAt} ms ` +
        `after its restart; ${edits.accepted.length} edits accepted (${acceptedBefore} before the kill), ${edits.refused} refused`,
    );
    expect(acceptedBefore).toBeGreaterThan(0);
    expect(edits.accepted.length).toBeGreaterThan(acceptedBefore);

    // the run ends, and both members see how
    await waitUntil(
      () => members.every((v) => v.run?.runId === runId && !["queued", "running"].includes(v.run.status)),
      "both members saw the run end",
      90_000,
      50,
    );
    for (const v of members) expect(v.run).toMatchObject({ status: "completed", iteration: 150 });
    expect((await f.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("completed");

    // no accepted edit lost: unique versions, and the last one of each field is what everyone has
    const versions = edits.accepted.map((e) => e.version);
    expect(new Set(versions).size).toBe(versions.length);
    const expected = expectedValues(edits.accepted);
    // the members connected all along heard every change, in version order, through the restart
    for (const v of members) expect(v.document).toMatchObject(expected);
    for (const g of [g1, g2]) {
      const fresh = await cluster.open(g.url, f.users.viewer);
      fresh.close();
      expect(fresh.document).toMatchObject(expected);
      expect(fresh.version).toBe(Math.max(...versions));
    }
    // and the database has it once the gateways have saved (they do on a timer and when the room empties)
    for (const v of members) v.close();
    await waitUntil(
      async () => {
        const row = await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } });
        const doc = readRoomDocument(row) as unknown as Record<string, unknown>;
        return Object.entries(expected).every(([field, value]) => doc[field] === value);
      },
      "the database holds the last accepted edits",
      20_000,
      200,
    );
  });
});
