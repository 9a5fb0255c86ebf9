// The deliberate breakages of `npm run test:mutations` (issue 27): each is a plausible bug,
// written as an exact piece of source text and what it becomes, found by its text (not its
// path, so the list survives files moving between folders), and the suites that must catch it.
// A breakage whose text is no longer in the code is reported as such: update it with the code.

/**
 * @typedef {{ workspace: string; files: string[]; grep?: string; env?: Record<string, string> }} Suite
 * (`grep`: only the tests whose names match, where a file's other tests take long and cannot catch it)
 * @typedef {{ id: string; bug: string; find: string; replace: string; under: string[]; suites: Suite[] }} Mutation
 */

const postgres = { ATELIER_TEST_DB: "postgresql" };

/** @type {Mutation[]} */
export const MUTATIONS = [
  {
    id: "takeover-from-content",
    bug: "a cluster worker taking over a run starts from the content photo, not the checkpoint",
    find: "run.initImagePath = checkpoint ?? (await this.startImage(row.resumedFromId, run.id));",
    replace: "run.initImagePath = checkpoint ? run.contentPath : await this.startImage(row.resumedFromId, run.id);",
    under: ["apps/optimizer/src"],
    suites: [
      { workspace: "apps/optimizer", files: ["test/cluster-worker-stop.test.ts"] },
      { workspace: "apps/optimizer", files: ["test/chaos-worker.test.ts"], env: postgres },
    ],
  },
  {
    id: "tiles-fixed-grid",
    bug: "a tiled level reuses the first pass's tile grid on every pass",
    find: "for (const rect of tileGrid(width, height, tile, index)) {",
    replace: "for (const rect of tileGrid(width, height, tile, 0)) {",
    under: ["packages/engine/src"],
    suites: [{ workspace: "packages/engine", files: ["test/tiled-level.test.ts"] }],
  },
  {
    id: "tiles-no-feather",
    bug: "tiles are pasted back without feathering",
    find: "const w = featherWeight(x, y, rect, width, height, overlap);",
    replace: "const w = 1;",
    under: ["packages/engine/src"],
    suites: [{ workspace: "packages/engine", files: ["test/tiled-level.test.ts"] }],
  },
  {
    id: "colour-control-dropped",
    bug: "the service drops the room's colour-control setting (the engine never gets it)",
    find: "...(p.colorControl ? { colorControl: p.colorControl } : {}),",
    replace: "",
    under: ["apps/optimizer/src"],
    suites: [{ workspace: "apps/optimizer", files: ["test/settings.test.ts"] }],
  },
  {
    id: "speed-1000x",
    bug: "the speed model learns a figure 1000× off",
    find: "msPerPixelIteration: run.computeMs / work };",
    replace: "msPerPixelIteration: (1000 * run.computeMs) / work };",
    under: ["apps/optimizer/src"],
    suites: [{ workspace: "apps/optimizer", files: ["test/speed.test.ts"] }],
  },
  {
    id: "lower-version-applied",
    bug: "a gateway's copy of a room applies a late, lower-version change",
    find: "if (version <= (this.fieldVersions[field] ?? 0)) return false;",
    replace: "if (version === (this.fieldVersions[field] ?? 0)) return false;",
    under: ["apps/optimizer/src"],
    suites: [
      { workspace: "apps/optimizer", files: ["test/room-registry.test.ts"] },
      { workspace: "apps/optimizer", files: ["test/gateway-version-order.test.ts"] },
    ],
  },
  {
    id: "onnx-tv-zero",
    bug: "the onnx TV gradient is zeroed",
    find: 'const grad = tv ? b.op("Add", [nhwcGrad, tv.grad]) : nhwcGrad;',
    replace: "const grad = nhwcGrad;",
    under: ["packages/engine/src"],
    suites: [
      { workspace: "packages/engine", files: ["test/onnx-objective.test.ts"], grep: "TV weight 1|finite differences" },
    ],
  },
  {
    id: "onnx-tv-flipped",
    bug: "the onnx TV gradient has the wrong sign",
    find: 'const grad = tv ? b.op("Add", [nhwcGrad, tv.grad]) : nhwcGrad;',
    replace: 'const grad = tv ? b.op("Sub", [nhwcGrad, tv.grad]) : nhwcGrad;',
    under: ["packages/engine/src"],
    suites: [
      { workspace: "packages/engine", files: ["test/onnx-objective.test.ts"], grep: "TV weight 1|finite differences" },
    ],
  },
  {
    id: "continue-ignores-run",
    bug: "continuing from an earlier run starts from the room's init, not from that run's image",
    find: "const initImagePath = branchImage ?? (restart && previous ? await files.imageToContinueFrom(previous.id) : null);",
    replace: "const initImagePath = restart && previous ? await files.imageToContinueFrom(previous.id) : null;",
    under: ["apps/optimizer/src"],
    suites: [{ workspace: "apps/optimizer", files: ["test/run-history.test.ts"] }],
  },
  {
    id: "continue-from-content",
    bug: "continuing from an earlier run starts from the content photo",
    find: "const initImagePath = branchImage ?? (restart",
    replace: "const initImagePath = (branchImage ? paths.contentPath : null) ?? (restart",
    under: ["apps/optimizer/src"],
    suites: [{ workspace: "apps/optimizer", files: ["test/run-history.test.ts"] }],
  },
  {
    id: "promote-wrong-cell",
    bug: "promoting a sweep cell starts the run from another cell's image",
    find: "imagePath: cellFinalPath(dir, index) };",
    replace: "imagePath: cellFinalPath(dir, cells.length - 1 - index) };",
    under: ["apps/optimizer/src"],
    suites: [
      { workspace: "apps/optimizer", files: ["test/sweeps.test.ts"], grep: "2×2|promoting a cell" },
      {
        workspace: "apps/optimizer",
        files: ["test/cluster-sweeps.test.ts"],
        grep: "runs its cells|late joiner",
        env: postgres,
      },
    ],
  },
];
