/**
 * `npm run bench:estimates [-- --backend onnx --presets]`: how well the estimate shown before
 * Start holds. Starts the real service in-process on a throwaway database (engine process
 * pre-warmed, as `npm start` does), then runs 6 runs of different sizes, iterations and
 * schedules one after another in one room, tubingen × starry_night. Before each Start it takes
 * the estimate the studio shows (the one time function, protocol runSecondsLeft, on the speed
 * the room state carries: the reference figure until a run completed, then what completed runs
 * taught) and prints it beside the time from Start to "completed". Figures, not assertions.
 *
 * `--presets`: the 6 runs are Quick, Balanced and Full size and three others at the presets'
 * sizes (long on a shared machine); default: six runs small enough for a loaded box.
 */
import { loadavg, cpus } from "node:os";
import { parseArgs } from "node:util";
import {
  PROTOCOL_VERSION,
  defaultRoomDocument,
  RUN_PRESETS,
  runSecondsLeft,
  type RoomDocument,
} from "@atelier/protocol";
import { connect, createFixture, request, setDocument, startServer, waitFor } from "../test/support.ts";
import { DEFAULT_SETTINGS } from "../src/config.ts";

const { values: args } = parseArgs({
  options: {
    backend: { type: "string", default: "auto" },
    presets: { type: "boolean", default: false },
  },
});

type Plan = Pick<RoomDocument, "size" | "iterations" | "multiscale">;
const SMALL: Plan[] = [
  { size: 128, iterations: 20, multiscale: false },
  { size: 192, iterations: 40, multiscale: true },
  { size: 256, iterations: 30, multiscale: true },
  { size: 160, iterations: 60, multiscale: false },
  { size: 256, iterations: 60, multiscale: true },
  { size: 320, iterations: 40, multiscale: true },
];
const PRESETS: Plan[] = [
  ...RUN_PRESETS.map((p) => p.settings),
  { size: 512, iterations: 100, multiscale: true },
  { size: 384, iterations: 200, multiscale: true },
  { size: 640, iterations: 150, multiscale: true },
];
/** tubingen is 1024×768 */
const ASPECT = 768 / 1024;

const s1 = (seconds: number) => seconds.toFixed(1);

async function main(): Promise<void> {
  const f = await createFixture("estimates");
  const base = {
    ...defaultRoomDocument(),
    contentImageId: f.contentImageId,
    styles: [{ imageId: f.styleImageIds[0]!, weight: 1 }],
  };
  await setDocument(f, { ...base, size: 64, iterations: 1, multiscale: false });
  // the service as deployed: its default preview rate and checkpoints, engines loaded at start-up
  const { prewarm, previewFps, checkpointEvery } = DEFAULT_SETTINGS;
  const server = await startServer(f, { prewarm, previewFps, checkpointEvery, backend: args.backend });
  const rows: string[] = [];
  const errors: { error: number; measured: boolean }[] = [];
  try {
    const owner = await connect(server, f.users.owner);
    const join = async () => {
      const joined = await request(owner, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
      if (!joined.ok) throw new Error(joined.error);
      return joined.state;
    };
    await join();
    // warm-up: the engine process loads the backend and VGG-19 (a service has done this before anyone presses Start)
    const warm = await request(owner, "run:start", { roomId: f.roomId });
    if (!warm.ok) throw new Error(warm.error);
    await waitFor(owner, "run:update", (u) => u.run.runId === warm.run.runId && u.run.status === "completed", 300_000);

    for (const plan of args.presets ? PRESETS : SMALL) {
      for (const field of ["size", "iterations", "multiscale"] as const) {
        const state = await join();
        const edit = await request(owner, "doc:edit", {
          roomId: f.roomId,
          field,
          value: plan[field],
          baseVersion: state.version,
        });
        if (!edit.ok) throw new Error(edit.error);
      }
      const { speed } = await join();
      if (!speed) throw new Error("the room state carries no speed");
      const estimate = runSecondsLeft(plan, speed, { aspect: ASPECT, queueWaitSeconds: speed.queueWaitSeconds });
      const startedAt = Date.now();
      const started = await request(owner, "run:start", { roomId: f.roomId });
      if (!started.ok) throw new Error(started.error);
      await waitFor(
        owner,
        "run:update",
        (u) => u.run.runId === started.run.runId && u.run.status === "completed",
        7200_000,
      );
      const actual = (Date.now() - startedAt) / 1000;
      const error = Math.abs(estimate - actual) / actual;
      errors.push({ error, measured: speed.source === "measured" });
      rows.push(
        `| ${plan.size} | ${plan.iterations} | ${plan.multiscale ? "coarse to fine" : "single"} | ${speed.backend}, ${speed.source === "measured" ? `measured over ${speed.runs} run${speed.runs === 1 ? "" : "s"}` : "reference"} | ${s1(estimate)} | ${s1(actual)} | ${(error * 100).toFixed(0)} % |`,
      );
      console.error(rows.at(-1));
    }
    owner.close();
  } finally {
    await server.close();
    await f.cleanup();
  }
  const worst = (list: { error: number }[]) =>
    list.length ? `${(Math.max(...list.map((e) => e.error)) * 100).toFixed(0)} %` : "—";
  console.log(
    `\nestimates vs actual: tubingen × starry_night (4:3), one room, runs one after another; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`,
  );
  console.log(`| size | iterations | schedule | speed behind the estimate | estimate s | actual s | error |`);
  console.log(`|---:|---:|---|---|---:|---:|---:|`);
  for (const row of rows) console.log(row);
  console.log(
    `\nworst relative error: ${worst(errors)} overall; ${worst(errors.filter((e) => !e.measured))} from the reference figure ` +
      `(target ≤ 50 %); ${worst(errors.filter((e) => e.measured))} once a run of this backend completed (target ≤ 25 %)`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
