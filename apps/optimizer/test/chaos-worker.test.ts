/**
 * Chaos: `kill -9` of the worker process holding a running job. A gateway, two workers
 * (`npm run worker`), a private Redis and the fixture's PostgreSQL database; the files in an S3
 * bucket (the s3rver emulator), every process on its own DATA_DIR — no shared folder, as on
 * separate machines; checkpoints every 5 iterations. The other worker must resume the run from
 * its last checkpoint (not from iteration 0), which it finds only in the bucket, the room must be
 * told, and the run must complete; the time from the kill to the first iteration after it is
 * measured (target ≤ 30 s). The room starts from noise, so the picture tells where the resumed run
 * went on from: its first frame must be close to the checkpoint, far from the content photo.
 * Needs PostgreSQL (several processes share one database): it runs in the PostgreSQL pass.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import path from "node:path";
import { testDatabaseProvider } from "@atelier/db/testing";
import type { IterationStats } from "@atelier/protocol";
import { startChaosCluster, type ChaosCluster } from "./support-cluster.ts";
import { decodeImage, resizeImage } from "@atelier/engine";
import {
  collect,
  endSoonAt,
  imageAt,
  pixelDistance,
  previewImage,
  request,
  scaled,
  waitFor,
  waitUntil,
} from "./support.ts";

const RESUME_TARGET_MS = 30_000;
const CHECKPOINT_EVERY = 5;

describe.runIf(testDatabaseProvider() === "postgresql")("chaos: the worker of a run dies", () => {
  let cluster: ChaosCluster;

  beforeAll(async () => {
    cluster = await startChaosCluster("chaos-worker", {
      iterations: 150,
      gateways: 1,
      workers: 2,
      env: { ATELIER_CHECKPOINT_EVERY: String(CHECKPOINT_EVERY) },
      // not the content photo: a takeover that starts over from the photo must show in the picture
      document: { init: "noise", learningRate: 2 },
      s3: true,
    });
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it("another worker resumes it from its last checkpoint and it completes", async () => {
    const { f, workers } = cluster;
    const owner = await cluster.open(cluster.gateways[0]!.url, f.users.owner);
    const stats = collect(owner.socket, "run:stats");
    const frames = collect(owner.socket, "run:preview");
    const started = await request(owner.socket, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;
    // past two checkpoints, so there is one to resume from
    await waitFor(owner.socket, "run:stats", (s) => s.runId === runId && s.iteration >= 3 * CHECKPOINT_EVERY, 90_000);

    // the holder is the worker whose log names the run
    const names = (r: Record<string, unknown>) => r.runId === runId;
    const holder = workers.find((w) => w.hasLogged(names));
    if (!holder) throw new Error(`no worker logged run ${runId}\n${workers.map((w) => w.tail()).join("\n")}`);
    const other = workers.find((w) => w !== holder)!;
    // the checkpoint is in the bucket, and nowhere the other worker could read it as a file
    const { store, dataDirs } = cluster.s3!;
    const checkpointKey = `runs/${runId}/checkpoint.png`;
    expect((await store.stat(checkpointKey))?.size).toBeGreaterThan(0);
    const otherDir = dataDirs.get(other.name)!;
    expect(existsSync(path.join(otherDir, "s3-cache", "runs", runId))).toBe(false);
    expect(existsSync(path.join(cluster.f.dataDir, "runs"))).toBe(false);
    const lastBefore = Math.max(...stats.filter((s) => s.runId === runId).map((s) => s.iteration));
    const seenBefore = stats.length;
    // frames that come after the room hears of the takeover are the new worker's (the dead one's came seconds before)
    const told = waitFor(owner.socket, "room:activity", (a) => a.kind === "resumed" && a.runId === runId, 90_000).then(
      () => frames.length,
    );
    const killedAt = Date.now();
    await holder.kill("SIGKILL");
    // the checkpoint the run must go on from: nothing writes it between the kill and the takeover
    const checkpoint = await decodeImage((await store.read(checkpointKey))!, { label: "checkpoint" });

    // resumed = iterations of the same run flow again, taken over by the other worker
    let resumedAt = 0;
    let firstAfter: IterationStats | undefined;
    await waitUntil(
      () => {
        firstAfter = stats.slice(seenBefore).find((s) => s.runId === runId);
        if (firstAfter) resumedAt = Date.now();
        return firstAfter !== undefined;
      },
      "the run's iterations flow again after its worker died",
      RESUME_TARGET_MS * 2,
      20,
    );
    const resumeMs = resumedAt - killedAt;
    console.log(
      `[chaos] worker kill -9 at iteration ${lastBefore} → ${other.name} resumed at iteration ${firstAfter!.iteration} ` +
        `${resumeMs} ms later (target ≤ ${RESUME_TARGET_MS})`,
    );
    // the target is the product's; the assertion is a ceiling scaled to this machine's measured slowdown
    // (CI's 2-core box, loaded by the suites beside this one, took 13.8 s)
    expect(resumeMs).toBeLessThanOrEqual(scaled(RESUME_TARGET_MS));
    // the room is told who took it over
    const framesAtResume = await told;
    // and the picture goes on from the checkpoint, not from the content photo
    await waitUntil(
      () => frames.slice(framesAtResume).some((p) => p.runId === runId),
      "a frame after the takeover",
      RESUME_TARGET_MS,
    );
    const frame = await previewImage(frames.slice(framesAtResume).find((p) => p.runId === runId)!);
    const toCheckpoint = pixelDistance(frame, await resizeImage(checkpoint, frame.width, frame.height));
    const toContent = pixelDistance(frame, await imageAt("tubingen.jpg", frame.width, frame.height));
    console.log(
      `[chaos] first frame after the takeover: ${toCheckpoint.toFixed(1)} from the checkpoint, ${toContent.toFixed(1)} from the content photo`,
    );
    expect(toCheckpoint).toBeLessThan(toContent / 2);
    expect(other.hasLogged(names)).toBe(true);
    expect(existsSync(path.join(otherDir, "s3-cache", "runs", runId, "checkpoint.png"))).toBe(true);
    // from the last checkpoint: not from the start, and not past where it was
    expect(firstAfter!.iteration).toBeGreaterThan(CHECKPOINT_EVERY);
    expect(firstAfter!.iteration).toBeLessThanOrEqual(lastBefore + 1);

    // it completes on the other worker: brought near (a live edit of its iterations, which that
    // worker follows) now that the take-over is behind it, not the ~120 iterations left at 64 px
    const last = await endSoonAt(owner.socket, runId);
    expect(
      await request(owner.socket, "doc:edit", { roomId: f.roomId, field: "iterations", value: last, baseVersion: 0 }),
    ).toMatchObject({ ok: true });

    await waitUntil(
      () => owner.run?.runId === runId && !["queued", "running"].includes(owner.run.status),
      "the run ended",
      90_000,
      50,
    );
    expect(owner.run).toMatchObject({ status: "completed", iteration: last });
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(row.status).toBe("completed");
    // what it left is in the bucket too: its final image and the kept image's content-addressed file
    expect(await store.stat(`runs/${runId}/final.png`)).not.toBeNull();
    const kept = await f.db.image.findUniqueOrThrow({ where: { id: row.finalImageId! } });
    expect(await store.stat(`images/${kept.sha256}.png`)).not.toBeNull();
  });
});
