/**
 * A coarse-to-fine job resumed from a checkpoint (another worker took the run over) goes on with
 * the rest of the run's own schedule — the level the checkpoint was in, then the finer ones —
 * numbering iterations and levels as the whole run does. Real worker thread, real VGG-19, at the
 * smallest sizes that still have two levels.
 */
// test-plan: one database engine (it opens no database: support.ts is imported for its helpers only)
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { IterationEvent } from "@atelier/engine";
import { defaultRoomDocument, defaultScalePlan, runParams } from "@atelier/protocol";
import { engineSpec, WorkerPool, type WorkerEnd } from "../src/engine-slots/slot-pool.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/common/log.ts";
import { IMAGES_DIR } from "./support.ts";

const dir = mkdtempSync(path.join(os.tmpdir(), "atelier-resume-schedule-"));
const pool = new WorkerPool({ log: createLogger("silent"), engine: engineSpec(loadConfig(process.env), 1) });

afterAll(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a resumed coarse-to-fine job", () => {
  it("runs the rest of the schedule from the checkpoint's level, not the remainder at full size", async () => {
    // 136 px, 6 iterations: levels 96 px and 136 px, 5 and 1 iterations
    const params = runParams.parse({
      ...defaultRoomDocument(),
      size: 136,
      iterations: 6,
      multiscale: true,
      optimizer: "adam",
      learningRate: 5,
      init: "content",
      styles: [{ imageId: "style", weight: 1 }],
      contentImageId: "content",
    });
    expect(defaultScalePlan(136, 6, true)).toEqual({ sizes: [96, 136], iterations: [5, 1] });
    const events: IterationEvent[] = [];
    const end = await new Promise<WorkerEnd>((resolve) => {
      pool.run(
        {
          runId: "resumed",
          params,
          contentPath: path.join(IMAGES_DIR, "tubingen.jpg"),
          stylePaths: [path.join(IMAGES_DIR, "starry_night.jpg")],
          // the checkpoint: taken at iteration 4, in the first level (any image does here)
          initImagePath: path.join(IMAGES_DIR, "tubingen.jpg"),
          startIteration: 4,
          previewFps: 1,
          previewMime: "image/jpeg",
          checkpointEvery: 100,
          checkpointPath: path.join(dir, "checkpoint.png"),
          finalPath: path.join(dir, "final.png"),
        },
        {
          onMessage: (message) => {
            if (message.type === "iteration") events.push(message.event);
          },
          onEnd: resolve,
        },
      );
    });
    expect(end).toMatchObject({ kind: "done", iteration: 6 });
    // the first level's last iteration at its own size, then the full-size level
    expect(events.map((e) => [e.iteration, e.scale, Math.max(e.width, e.height)])).toEqual([
      [5, 0, 96],
      [6, 1, 136],
    ]);
  }, 120_000);
});
