/**
 * Chaos: `kill -9` of a gateway process. Two gateways behind the load balancer of
 * `npm run start:cluster` (scripts/lib/lb-proxy.mjs), a private Redis, the fixture's PostgreSQL
 * database; three studio-like clients spread over the gateways by the proxy. One gateway dies
 * mid-run: its clients must reconnect through the other and resync (document and run) within
 * 5 s, and the run must keep going to its end. Before the worker process existed every node was
 * role `all` and ran its own jobs, so then the victim is the gateway that does not hold the run.
 * PostgreSQL only: several processes share the database (the PostgreSQL pass of `npm test`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseProvider } from "@atelier/db/testing";
import { startLoadBalancer, type LoadBalancer } from "../../../scripts/lib/lb-proxy.mjs";
import { startChaosCluster, type ChaosCluster } from "./support-cluster.ts";
import { endSoonAt, request, waitFor, waitUntil, scaled } from "./support.ts";

const RESYNC_TARGET_MS = 5_000;

describe.runIf(testDatabaseProvider() === "postgresql")("chaos: a gateway dies", () => {
  let cluster: ChaosCluster;
  let lb: LoadBalancer | undefined;

  beforeAll(async () => {
    // long enough (several seconds at 64 px) to be killed in the middle of
    cluster = await startChaosCluster("chaos-gateway", { iterations: 150, gateways: 2, workers: 1 });
    lb = await startLoadBalancer({
      backends: cluster.gateways.map((n) => ({ name: n.name, port: n.port })),
      healthEveryMs: 250,
    });
  });

  afterAll(async () => {
    await lb?.close();
    await cluster?.stop();
  });

  it("its clients reconnect through the other gateway and resync within 5 s; the run goes on", async () => {
    // round robin per connection: owner → gateway-1, editor → gateway-2, viewer → gateway-1
    const { f } = cluster;
    const balancer = lb!;
    const url = balancer.url;
    const owner = await cluster.open(url, f.users.owner);
    const editor = await cluster.open(url, f.users.editor);
    const viewer = await cluster.open(url, f.users.viewer);
    const views = [owner, editor, viewer];
    expect(balancer.status().map((g) => g.served)).toEqual([2, 1]);

    const started = await request(owner.socket, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;
    await waitFor(editor.socket, "run:stats", (s) => s.runId === runId && s.iteration >= 3, 60_000);

    // the run lives on the worker: gateway-1, which serves the owner who started it, dies
    const victim = cluster.gateways[0]!;
    const orphans = [owner, viewer];
    const survivors = views.filter((v) => !orphans.includes(v));
    const joinsBefore = orphans.map((v) => v.joins);
    const killedAt = Date.now();
    await victim.kill("SIGKILL");

    await waitUntil(
      () => orphans.every((v, i) => v.joins > joinsBefore[i]! && v.socket.connected),
      `the clients of ${victim.name} rejoined through the other gateway`,
      RESYNC_TARGET_MS * 3,
      20,
    );
    const resyncMs = Math.max(...orphans.map((v) => v.joinedAt)) - killedAt;
    console.log(
      `[chaos] gateway kill -9 → ${orphans.length} client(s) reconnected and resynced in ${resyncMs} ms (target ≤ ${RESYNC_TARGET_MS})`,
    );
    expect(resyncMs).toBeLessThanOrEqual(scaled(RESYNC_TARGET_MS));
    expect(balancer.status().find((g) => g.name === victim.name)?.alive).toBe(false);
    // the resync gave them the room as it is: the same document and the run, still going
    for (const v of orphans) {
      expect(v.document).toEqual(survivors[0]!.document);
      expect(v.version).toBe(survivors[0]!.version);
      expect(v.run).toMatchObject({ runId });
      expect(["queued", "running"]).toContain(v.run!.status);
    }

    // they are full members again: an edit from one reaches a client that never moved, and back
    const orphan = orphans[0]!;
    const seen = waitFor(survivors[0]!.socket, "doc:changed", (p) => p.field === "contentWeight");
    const edit = await request(orphan.socket, "doc:edit", {
      roomId: f.roomId,
      field: "contentWeight",
      value: 7,
      baseVersion: orphan.version,
    });
    expect(edit).toMatchObject({ ok: true });
    expect(await seen).toMatchObject({ value: 7, author: { name: orphan.user.name } });

    // and the run goes on to its end, seen by everyone: brought near (a live edit of its
    // iterations) now that the kill is behind it, not the ~120 iterations left at 64 px
    const last = await endSoonAt(survivors[0]!.socket, runId);
    expect(
      await request(orphan.socket, "doc:edit", { roomId: f.roomId, field: "iterations", value: last, baseVersion: 0 }),
    ).toMatchObject({ ok: true });
    await waitUntil(
      () => views.every((v) => v.run?.runId === runId && !["queued", "running"].includes(v.run.status)),
      "every client saw the run end",
      90_000,
      50,
    );
    for (const v of views) expect(v.run).toMatchObject({ status: "completed", iteration: last });
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.status).toBe("completed");
    console.log(`[chaos] the run went on through the gateway kill: completed ${Date.now() - killedAt} ms after it`);
  });
});
