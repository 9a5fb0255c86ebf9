/**
 * Chaos: PostgreSQL goes away for a few seconds during a run. The gateways reach the database
 * through a fault proxy (support-chaos.ts) whose cut drops every connection and refuses new ones,
 * like a database restart; the machine's PostgreSQL itself is shared with CI and never restarted.
 * Afterwards everything must work again and nothing accepted may be lost: a result saved before
 * the outage, the run that was going (it completes, in the database too), every accepted edit.
 * PostgreSQL pass only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument } from "@atelier/db";
import { testDatabaseProvider } from "@atelier/db/testing";
import { startFaultProxy, type FaultProxy } from "./support-chaos.ts";
import {
  expectedValues,
  startChaosCluster,
  tryEdit,
  type AcceptedEdit,
  type ChaosCluster,
  type NodeProcess,
  type RoomView,
} from "./support-cluster.ts";
import { endSoonAt, request, sleep, waitUntil } from "./support.ts";

const OUTAGE_MS = 3_000;

describe.runIf(testDatabaseProvider() === "postgresql")("chaos: PostgreSQL outage", () => {
  let cluster: ChaosCluster;
  let pg: FaultProxy | undefined;

  beforeAll(async () => {
    cluster = await startChaosCluster("chaos-pg", {
      // a short first run; the second is made longer by an edit
      iterations: 10,
      gateways: 2,
      workers: 1,
      // every node reaches the database through the fault proxy
      env: async (f) => {
        const direct = new URL(f.databaseUrl);
        pg = await startFaultProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
        const proxied = new URL(f.databaseUrl);
        proxied.hostname = "127.0.0.1";
        proxied.port = String(pg.port);
        return { DATABASE_URL: proxied.toString() };
      },
    });
  });

  afterAll(async () => {
    await pg?.restore();
    await cluster?.stop();
    await pg?.close();
  });

  it("everything reconnects; no accepted edit, run or saved result is lost", async () => {
    const { f } = cluster;
    const fault = pg!;
    const [g1, g2] = cluster.gateways as [NodeProcess, NodeProcess];
    const owner = await cluster.open(g1.url, f.users.owner);
    const editor = await cluster.open(g2.url, f.users.editor);
    const views = [owner, editor];
    const ended = (runId: string) => () =>
      views.every((v) => v.run?.runId === runId && !["queued", "running"].includes(v.run.status));

    // a short run, saved as a result before anything goes wrong
    const first = await request(owner.socket, "run:start", { roomId: f.roomId });
    if (!first.ok) throw new Error(first.error);
    await waitUntil(ended(first.run.runId), "the first run ended", 90_000, 50);
    const saved = await request(owner.socket, "result:save", {
      roomId: f.roomId,
      runId: first.run.runId,
      title: "Before the outage",
      isPublic: false,
    });
    if (!saved.ok) throw new Error(saved.error);

    // the long run, and edits from both gateways all through the outage
    const edits = { accepted: [] as AcceptedEdit[], refused: 0 };
    expect(await tryEdit(owner, f.roomId, "iterations", 150, edits)).toBe(true);
    const second = await request(owner.socket, "run:start", { roomId: f.roomId });
    if (!second.ok) throw new Error(second.error);
    const runId = second.run.runId;
    let editing = true;
    let counter = 0;
    const editLoop = async (view: RoomView) => {
      while (editing) {
        await tryEdit(view, f.roomId, "styleWeight", 2000 + counter++, edits);
        await sleep(100);
      }
    };
    const loops = [editLoop(owner), editLoop(editor)];
    await sleep(1_000);
    const acceptedBefore = edits.accepted.length;
    await fault.cut();
    const cutAt = Date.now();
    await sleep(OUTAGE_MS);
    await fault.restore();
    const restoredAt = Date.now();

    // recovered = a new member can join (a database read) and an edit is accepted and reaches the other gateway
    let recoveredAt = 0;
    await waitUntil(
      async () => {
        const value = 7_000 + counter++;
        if (!(await tryEdit(editor, f.roomId, "contentWeight", value, edits))) return false;
        const deadline = Date.now() + 1_000;
        while (Date.now() < deadline && owner.document?.contentWeight !== value) await sleep(20);
        if (owner.document?.contentWeight !== value) return false;
        const late = await cluster.open(g1.url, f.users.viewer).catch(() => null);
        if (!late) return false;
        views.push(late);
        recoveredAt = Date.now();
        return true;
      },
      "the gateways serve the room again after the outage",
      30_000,
      100,
    );
    editing = false;
    await Promise.all(loops);
    console.log(
      `[chaos] PostgreSQL cut for ${restoredAt - cutAt} ms → joins and cross-gateway edits again ` +
        `${recoveredAt - restoredAt} ms after it came back; ${edits.accepted.length} edits accepted ` +
        `(${acceptedBefore} before the cut), ${edits.refused} refused`,
    );
    expect(acceptedBefore).toBeGreaterThan(0);

    // the run that was going completes, in every client and in the database: brought near (an
    // accepted live edit of its iterations) now that the outage is behind it, not the ~100
    // iterations left at 64 px
    const last = await endSoonAt(editor.socket, runId);
    expect(await tryEdit(owner, f.roomId, "iterations", last, edits)).toBe(true);
    await waitUntil(ended(runId), "every member saw the long run end", 90_000, 50);
    for (const v of views) expect(v.run).toMatchObject({ runId, status: "completed", iteration: last });
    expect((await f.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("completed");

    // the result saved before is still there, and the new run can be saved too
    expect(await f.db.result.findUnique({ where: { id: saved.resultId } })).toMatchObject({
      title: "Before the outage",
    });
    const savedAfter = await request(editor.socket, "result:save", {
      roomId: f.roomId,
      runId,
      title: "After the outage",
      isPublic: false,
    });
    expect(savedAfter).toMatchObject({ ok: true });

    // no accepted edit lost: unique versions; everyone, and then the database, has the last of each field
    const versions = edits.accepted.map((e) => e.version);
    expect(new Set(versions).size).toBe(versions.length);
    const expected = expectedValues(edits.accepted);
    const fresh = await cluster.open(g2.url, f.users.viewer);
    views.push(fresh);
    expect(fresh.document).toMatchObject(expected);
    for (const v of views) v.close();
    await waitUntil(
      async () => {
        const doc = readRoomDocument(
          await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } }),
        ) as unknown as Record<string, unknown>;
        return Object.entries(expected).every(([field, value]) => doc[field] === value);
      },
      "the database holds the last accepted edits",
      20_000,
      200,
    );
  });
});
