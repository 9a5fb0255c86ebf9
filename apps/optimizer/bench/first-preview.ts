/**
 * `npm run bench:first-preview [-- --backends onnx,wasm --size 512 --iterations 200 --no-multiscale --fraction 0.1]`:
 * how soon a room shows something after Start at the default settings. Starts the real service
 * in-process on a throwaway SQLite database (worker thread pre-warmed, as `npm start` does),
 * stores tubingen (content) and starry_night (style) from ../shared/images, lets the worker
 * finish loading (a 1-iteration 64 px warm-up run, timed and printed), then starts a run at the
 * room defaults with no queue ahead and prints seconds from Start to the first preview, to
 * "style visible" (first-preview-metrics.ts) and to the end, the levels it ran, and the speed it
 * measured next to the estimate the studio showed before Start. Figures, not assertions.
 *
 * `--backends onnx,wasm` (default: the service's default backend only) runs the same settings on
 * each backend in turn (a fresh service each, its engine processes on that backend, as
 * ATELIER_BACKEND would) and ends with one table: per backend the first preview, style visible,
 * finished, the estimate before Start, and finished ÷ finished on the last backend listed.
 */
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { loadavg, cpus } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  PROTOCOL_VERSION,
  defaultRoomDocument,
  runSecondsLeft,
  type IterationStats,
  type RoomDocument,
} from "@atelier/protocol";
import { encodeImage } from "@atelier/engine";
import {
  collect,
  connect,
  createFixture,
  previewImage,
  request,
  setDocument,
  startServer,
  waitFor,
} from "../test/support.ts";
import { DEFAULT_SETTINGS } from "../src/config.ts";
import { STYLE_VISIBLE_FRACTION, styleVisibleIndex } from "./first-preview-metrics.ts";

const { values: args } = parseArgs({
  options: {
    size: { type: "string" },
    iterations: { type: "string" },
    "no-multiscale": { type: "boolean", default: false },
    optimizer: { type: "string" },
    fraction: { type: "string", default: String(STYLE_VISIBLE_FRACTION) },
    /** a folder: writes the first preview and the first one at or after "style visible" as PNG, to look at */
    frames: { type: "string" },
    backends: { type: "string", default: "auto" },
  },
});

function settingsFromArgs(base: RoomDocument): RoomDocument {
  const doc = { ...base };
  if (args.size) doc.size = Number(args.size);
  if (args.iterations) doc.iterations = Number(args.iterations);
  if (args["no-multiscale"]) doc.multiscale = false;
  if (args.optimizer === "adam" || args.optimizer === "lbfgs") doc.optimizer = args.optimizer;
  return doc;
}

const seconds = (ms: number) => (ms / 1000).toFixed(1);

interface Row {
  backend: string;
  firstPreview: number;
  styleVisible: number | null;
  finished: number;
  estimate: number | null;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const backend of args.backends.split(",").map((b) => b.trim())) rows.push(await measure(backend));
  if (rows.length < 2) return;
  const last = rows.at(-1)!;
  console.log(`
per backend (same settings, same machine, one after another; load average now ${loadavg()[0]!.toFixed(1)}):`);
  console.log(
    `| backend | first preview s | style visible s | finished s | estimate before Start s | finished ÷ finished(${last.backend}) |`,
  );
  console.log(`|---|---:|---:|---:|---:|---:|`);
  for (const r of rows)
    console.log(
      `| ${r.backend} | ${seconds(r.firstPreview)} | ${r.styleVisible === null ? "—" : seconds(r.styleVisible)} | ${seconds(r.finished)} | ${r.estimate === null ? "—" : seconds(r.estimate * 1000)} | ${(r.finished / last.finished).toFixed(2)} |`,
    );
}

async function measure(backend: string): Promise<Row> {
  const f = await createFixture("first-preview");
  const [starryNight] = f.styleImageIds;
  const base = {
    ...defaultRoomDocument(),
    contentImageId: f.contentImageId,
    styles: [{ imageId: starryNight!, weight: 1 }],
  };
  const measured = settingsFromArgs(base);
  // warm-up: the worker thread loads the backend and VGG-19 once; a real service has done this before anyone presses Start
  await setDocument(f, { ...base, size: 64, iterations: 1, multiscale: false });
  // the service as deployed: its default preview rate and checkpoints, engines loaded at start-up
  const { prewarm, previewFps, checkpointEvery } = DEFAULT_SETTINGS;
  const server = await startServer(f, { prewarm, previewFps, checkpointEvery, backend });
  try {
    const owner = await connect(server, f.users.owner);
    const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    if (!joined.ok) throw new Error(joined.error);
    const warmStarted = Date.now();
    const warm = await request(owner, "run:start", { roomId: f.roomId });
    if (!warm.ok) throw new Error(warm.error);
    await waitFor(owner, "run:update", (u) => u.run.runId === warm.run.runId && u.run.status === "completed", 180_000);
    console.log(`warm-up (backend + VGG-19 weights + 1 iteration at 64 px): ${seconds(Date.now() - warmStarted)} s`);

    for (const field of ["size", "iterations", "multiscale", "optimizer"] as const) {
      const edit = await request(owner, "doc:edit", {
        roomId: f.roomId,
        field,
        value: measured[field],
        baseVersion: 0,
      });
      if (!edit.ok) throw new Error(edit.error);
    }
    // the speed the studio has once the engine reported its backend (the warm-up's run:update carries it)
    const rejoined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
    const speed = rejoined.ok ? rejoined.state.speed : joined.state.speed;
    const estimate = speed
      ? runSecondsLeft(measured, speed, { aspect: 768 / 1024, queueWaitSeconds: speed.queueWaitSeconds })
      : null;
    const stats: (IterationStats & { at: number })[] = [];
    owner.on("run:stats", (s) => stats.push({ ...s, at: Date.now() }));
    const previews = collect(owner, "run:preview");
    const startedAt = Date.now();
    const started = await request(owner, "run:start", { roomId: f.roomId });
    if (!started.ok) throw new Error(started.error);
    const runId = started.run.runId;
    const firstPreview = await waitFor(owner, "run:preview", (p) => p.runId === runId, 120_000);
    const firstPreviewMs = Date.now() - startedAt;
    await waitFor(owner, "run:update", (u) => u.run.runId === runId && u.run.status === "completed", 3600_000);
    const totalMs = Date.now() - startedAt;
    const own = stats.filter((s) => s.runId === runId);
    const visible = styleVisibleIndex(own, Number(args.fraction));
    const levels = [...new Set(own.map((s) => s.scale))].map((scale) => {
      const of = own.filter((s) => s.scale === scale);
      return { scale, iterations: of.length, ms: of.reduce((a, s) => a + s.ms, 0) };
    });

    console.log(
      `\nfirst preview benchmark: ${measured.size} px, ${measured.iterations} iterations, ` +
        `${measured.multiscale ? "coarse to fine" : "single scale"}, ${measured.optimizer}, tubingen × starry_night, ` +
        `backend ${speed?.backend ?? backend}; ` +
        `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
    );
    console.log(`| measure | seconds after Start |`);
    console.log(`|---|---:|`);
    console.log(
      `| first preview (${firstPreview.width}×${firstPreview.height}, iteration ${firstPreview.iteration}) | ${seconds(firstPreviewMs)} |`,
    );
    console.log(
      `| style visible (style loss ≤ ${Number(args.fraction) * 100} % of its start, iteration ${visible === null ? "—" : own[visible]!.iteration}) | ${visible === null ? "not reached on the first level" : seconds(own[visible]!.at - startedAt)} |`,
    );
    console.log(`| finished | ${seconds(totalMs)} |`);
    console.log(
      `| estimate shown before Start (${speed?.source ?? "none"} speed) | ${estimate === null ? "—" : seconds(estimate * 1000)} |`,
    );
    const ownPreviews = previews.filter((p) => p.runId === runId);
    console.log(`\npreviews received: ${ownPreviews.length}`);
    if (args.frames) {
      mkdirSync(args.frames, { recursive: true });
      const visibleIteration = visible === null ? null : own[visible]!.iteration;
      const atVisible =
        visibleIteration === null ? undefined : ownPreviews.find((p) => p.iteration >= visibleIteration);
      for (const [name, frame] of [
        ["first-preview", ownPreviews[0]],
        ["style-visible", atVisible],
        ["final", ownPreviews.at(-1)],
      ] as const) {
        if (!frame) continue;
        const file = path.join(args.frames, `${name}-iteration-${frame.iteration}.png`);
        await writeFile(file, await encodeImage(await previewImage(frame), "png"));
        console.log(`wrote ${file}`);
      }
    }
    console.log(`| level | iterations | compute s |`);
    console.log(`|---:|---:|---:|`);
    for (const l of levels) console.log(`| ${l.scale} | ${l.iterations} | ${seconds(l.ms)} |`);
    owner.close();
    const row = await f.db.run.findUniqueOrThrow({ where: { id: runId } });
    return {
      backend: row.backend ?? backend,
      firstPreview: firstPreviewMs,
      styleVisible: visible === null ? null : own[visible]!.at - startedAt,
      finished: totalMs,
      estimate,
    };
  } finally {
    await server.close();
    await f.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
