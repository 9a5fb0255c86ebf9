/**
 * The `atelier` CLI as a user runs it: a real subprocess (node bin/atelier.mjs) on real
 * images and the real VGG-19 weights.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONS, optionsMarkdown } from "../src/cli-args.ts";

const ENGINE = resolve(import.meta.dirname, "..");
const SHARED = resolve(ENGINE, "../../../shared");
const IMAGES = process.env.ATELIER_IMAGES ?? join(SHARED, "images");
const WEIGHTS = process.env.ATELIER_VGG19 ?? join(SHARED, "models", "vgg19");
const CONTENT = join(IMAGES, "tubingen.jpg");
const STYLE = join(IMAGES, "starry_night.jpg");

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function atelier(
  args: string[],
  options: { env?: Record<string, string>; onStdout?: (chunk: string, child: ReturnType<typeof spawn>) => void } = {},
) {
  return new Promise<CliResult>((ok, fail) => {
    const child = spawn(process.execPath, [join(ENGINE, "bin/atelier.mjs"), ...args], {
      cwd: ENGINE,
      env: { ...process.env, ATELIER_VGG19: WEIGHTS, ...options.env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code, signal) => ok({ code, signal, stdout, stderr }));
  });
}

let dir: string;
let notAnImage: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "atelier-cli-"));
  notAnImage = join(dir, "notes.jpg");
  await writeFile(notAnImage, "not a picture, despite the name");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("prints the usage with --help", async () => {
  const result = await atelier(["stylize", "--help"]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^Usage: atelier stylize --content/);
  expect(result.stdout).toMatch(/--original-colors/);
  expect(result.stdout).toMatch(/ATELIER_VGG19/);
  for (const name of Object.keys(OPTIONS)) expect(result.stdout).toContain(`--${name}`);
});

it("documents every option in the README, as generated from the same table (npm run cli-options)", async () => {
  const readme = await readFile(join(ENGINE, "README.md"), "utf8");
  const block = /<!-- cli-options:start[^>]*-->\n([\s\S]*?)\n<!-- cli-options:end -->/.exec(readme)?.[1];
  // compare cell by cell: a formatter may pad the table's columns
  const cells = (table: string) =>
    table.split("\n").map((row) => row.split(/(?<!\\)\|/).map((c) => c.trim().replace(/^-+$/, "-")));
  expect(block).toBeDefined();
  expect(cells(block!)).toEqual(cells(optionsMarkdown()));
});

// Each case: exactly one `atelier: error: …` line on stderr, a non-zero exit, no output file.
const base = () => [
  "stylize",
  "--content",
  CONTENT,
  "--style",
  STYLE,
  "--out",
  join(dir, "bad.png"),
  "--size",
  "48",
  "--iterations",
  "2",
];
const badInputs: [string, () => string[], RegExp, Record<string, string>?][] = [
  ["an unknown flag", () => [...base(), "--colour"], /unknown option '--colour'/],
  ["an unknown command", () => ["paint", "--content", CONTENT], /unknown command 'paint'/],
  ["a non-numeric size", () => [...base(), "--size", "big"], /--size must be a number, got 'big'/],
  ["a size out of range", () => [...base(), "--size", "5000"], /--size 5000: .*2048/],
  ["zero iterations", () => [...base(), "--iterations", "0"], /--iterations 0: .*1/],
  ["an unknown optimizer", () => [...base(), "--optimizer", "sgd"], /--optimizer must be lbfgs or adam, got 'sgd'/],
  [
    "an unknown layer",
    () => [...base(), "--style-layers", "relu1_1,relu9_9"],
    /--style-layers: unknown layer 'relu9_9'/,
  ],
  [
    "style weights that do not match the styles",
    () => [...base(), "--style-weights", "1,2"],
    /--style-weights has 2 value\(s\) but there are 1 style image/,
  ],
  ["a missing --content", () => ["stylize", "--style", STYLE, "--out", join(dir, "bad.png")], /--content is required/],
  [
    "an output extension we cannot write",
    () => ["stylize", "--content", CONTENT, "--style", STYLE, "--out", join(dir, "bad.gif")],
    /--out .*bad\.gif: the extension must be/,
  ],
  [
    "a content file that does not exist",
    () => ["stylize", "--content", join(dir, "nope.jpg"), "--style", STYLE, "--out", join(dir, "bad.png")],
    /content image: .*nope\.jpg does not exist/,
  ],
  [
    "a style file that is not an image",
    () => ["stylize", "--content", CONTENT, "--style", `${STYLE},${notAnImage}`, "--out", join(dir, "bad.png")],
    /style image: .*notes\.jpg is not an image/,
  ],
  [
    "an --init file that does not exist",
    () => [...base(), "--init", join(dir, "ckpt.png")],
    /--init image: .*ckpt\.png does not exist/,
  ],
  [
    "an output folder that does not exist",
    () => ["stylize", "--content", CONTENT, "--style", STYLE, "--out", join(dir, "missing", "x.png")],
    /--out .*: the folder .*missing does not exist/,
  ],
  ["missing weights", () => base(), /VGG-19 weights not found at .*nowhere/, { ATELIER_VGG19: "/nonexistent/nowhere" }],
];

describe.concurrent("bad input", () => {
  it.each(badInputs)(
    "refuses %s",
    async (_, args, message, env) => {
      const before = await readdir(dir);
      const result = await atelier(args(), { env });
      expect(result.code).not.toBe(0);
      expect(result.stdout).toBe("");
      const lines = result.stderr.split("\n").filter((l) => l !== "");
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^atelier: error: /);
      expect(lines[0]).toMatch(message);
      expect(existsSync(join(dir, "bad.png"))).toBe(false);
      // nothing new in the folder, not even a temp file
      expect((await readdir(dir)).filter((f) => !before.includes(f) && !f.startsWith("run-"))).toEqual([]);
    },
    30_000,
  );
});

describe("real runs", () => {
  it("--json streams one JSON object per iteration, then the done line, and writes the PNG", async () => {
    const out = join(dir, "run-json.png");
    const started = Date.now();
    const result = await atelier([
      "stylize",
      "--content",
      CONTENT,
      "--style",
      STYLE,
      "--out",
      out,
      "--size",
      "64",
      "--iterations",
      "10",
      "--save-every",
      "5",
      "--json",
    ]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(11);
    lines.slice(0, 10).forEach((line, i) => {
      expect(Object.keys(line).sort()).toEqual(["content", "iteration", "ms", "style", "total", "tv"]);
      expect(line.iteration).toBe(i + 1);
      for (const key of ["total", "content", "style", "tv", "ms"]) expect(Number.isFinite(line[key])).toBe(true);
      expect(line.total as number).toBeCloseTo(
        (line.content as number) + (line.style as number) + (line.tv as number),
        0,
      );
    });
    expect(lines[9]!.total as number).toBeLessThan(lines[0]!.total as number);
    const done = lines[10]!;
    expect(done.done).toBe(true);
    expect(done.out).toBe(out);
    expect(done.seconds as number).toBeGreaterThan(0);
    expect(done.seconds as number).toBeLessThanOrEqual((Date.now() - started) / 1000);

    // tubingen.jpg is 1024×768: longest side 64 → 64×48.
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["png", 64, 48]);
    expect((await sharp(join(dir, "run-json_5.png")).metadata()).width).toBe(64);
    expect(existsSync(join(dir, "run-json_10.png"))).toBe(false); // the final image is the output itself
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  }, 120_000);

  it("Ctrl-C aborts the run: one error line, exit 130, no output", async () => {
    const out = join(dir, "run-abort.webp");
    let sent = false;
    const result = await atelier(
      [
        "stylize",
        "--content",
        CONTENT,
        "--style",
        STYLE,
        "--out",
        out,
        "--size",
        "48",
        "--iterations",
        "500",
        "--json",
      ],
      {
        onStdout: (stdout, child) => {
          if (!sent && stdout.includes("\n")) {
            sent = true;
            child.kill("SIGINT");
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(result.code).toBe(130);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^atelier: error: interrupted/);
    const iterations = result.stdout.trim().split("\n").length;
    expect(iterations).toBeLessThan(500);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
