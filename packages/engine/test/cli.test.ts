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
import type { RgbImage } from "../src/api.ts";
import { decodeImage, resizeImage } from "../src/image.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPTIONS, optionsMarkdown } from "../src/cli-usage.ts";

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

/** `atelier stylize` of tubingen × starry_night into `out` at `size` px for `iterations`, then `extra`. */
function stylizeArgs(out: string, size: number, iterations: number, extra: string[] = [], style = STYLE): string[] {
  return [
    "stylize",
    "--content",
    CONTENT,
    "--style",
    style,
    "--out",
    out,
    "--size",
    `${size}`,
    "--iterations",
    `${iterations}`,
    ...extra,
  ];
}

// Each case: exactly one `atelier: error: …` line on stderr, a non-zero exit, no output file.
const base = () => stylizeArgs(join(dir, "bad.png"), 48, 2);
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
  [
    "style masks that do not match the styles",
    () => [...base(), "--style-mask", "a.png,b.png"],
    /--style-mask has 2 entries but there are 1 style image/,
  ],
  [
    "--color-match with --original-colors",
    () => [...base(), "--color-match", "style", "--original-colors"],
    /two colour controls; choose one/,
  ],
  ["an unknown --color-match", () => [...base(), "--color-match", "both"], /--color-match must be style or result/],
  [
    "a style mask that is not an image",
    () => [...base(), "--style-mask", notAnImage],
    /--style-mask: .*notes\.jpg is not an image/,
  ],
  ["missing weights", () => base(), /VGG-19 weights not found at .*nowhere/, { ATELIER_VGG19: "/nonexistent/nowhere" }],
];

// Failures while running exit 1; everything else in the list is a usage mistake, exit 2.
const RUN_FAILURES = new Set([
  "a content file that does not exist",
  "a style file that is not an image",
  "an --init file that does not exist",
  "an output folder that does not exist",
  "a style mask that is not an image",
  "missing weights",
]);

describe.concurrent("bad input", () => {
  it.each(badInputs)(
    "refuses %s",
    async (name, args, message, env) => {
      const before = await readdir(dir);
      const result = await atelier(args(), { env });
      expect(result.code, "exit code: 2 for a usage mistake, 1 for a failure while running").toBe(
        RUN_FAILURES.has(name) ? 1 : 2,
      );
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
    const result = await atelier(stylizeArgs(out, 64, 10, ["--save-every", "5", "--json"]));
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
    expect(done.iterations).toBe(10);
    expect(done.setupSeconds as number).toBeGreaterThan(0);
    // the iterations' own ms are inside the wall clock per iteration, and setup + iterations inside the whole
    const ownMs = lines.slice(0, 10).reduce((sum, line) => sum + (line.ms as number), 0) / 10;
    expect(done.msPerIteration as number).toBeGreaterThanOrEqual(ownMs * 0.99);
    expect((done.setupSeconds as number) + ((done.msPerIteration as number) * 10) / 1000).toBeLessThanOrEqual(
      (done.seconds as number) + 0.002,
    );

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
    const result = await atelier(stylizeArgs(out, 48, 500, ["--json"]), {
      onStdout: (stdout, child) => {
        if (!sent && stdout.includes("\n")) {
          sent = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(result.code).toBe(130);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^atelier: error: interrupted/);
    const iterations = result.stdout.trim().split("\n").length;
    expect(iterations).toBeLessThan(500);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});

/** Mean absolute difference per channel value (0–255) of two images of the same size. */
function distance(a: RgbImage, b: RgbImage): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/** Mean |I| + |Q| chroma difference (YIQ) of two images of the same size: colour, not luminance. */
function chromaDistance(a: RgbImage, b: RgbImage): number {
  const iq = (d: Uint8Array, p: number) => [
    0.595716 * d[p]! - 0.274453 * d[p + 1]! - 0.321263 * d[p + 2]!,
    0.211456 * d[p]! - 0.522591 * d[p + 1]! + 0.311135 * d[p + 2]!,
  ];
  let sum = 0;
  for (let p = 0; p < a.data.length; p += 3) {
    const [ia, qa] = iq(a.data, p);
    const [ib, qb] = iq(b.data, p);
    sum += Math.abs(ia! - ib!) + Math.abs(qa! - qb!);
  }
  return sum / (a.data.length / 3);
}

/** A short real run at 32 px (Adam: one evaluation per step); resolves with the decoded output. */
async function stylizeTo(name: string, extra: string[], style = STYLE): Promise<RgbImage> {
  const out = join(dir, `run-${name}.png`);
  const result = await atelier(stylizeArgs(out, 32, 3, ["--optimizer", "adam", "--json", ...extra], style));
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return decodeImage(out);
}

describe("options that change the result", () => {
  const SCREAM = join(IMAGES, "the_scream.jpg");

  it("--init <file> starts from that image (a painting unlike the content)", async () => {
    const painting = join(IMAGES, "shipwreck.jpg");
    const image = await stylizeTo("init-file", ["--init", painting, "--iterations", "1", "--learning-rate", "1"]);
    const start = await resizeImage(await decodeImage(painting), image.width, image.height);
    const content = await resizeImage(await decodeImage(CONTENT), image.width, image.height);
    const apart = distance(start, content);
    expect(apart).toBeGreaterThan(20);
    expect(distance(image, start)).toBeLessThan(0.1 * apart);
    expect(distance(image, content)).toBeGreaterThan(0.8 * apart);
  }, 120_000);

  it("--style-weights picks the blend: 0,1 is exactly the second style alone, 1,0 is not", async () => {
    const both = `${STYLE},${SCREAM}`;
    const secondOnly = await stylizeTo("weights-0-1", ["--style-weights", "0,1"], both);
    const scream = await stylizeTo("scream", [], SCREAM);
    const firstOnly = await stylizeTo("weights-1-0", ["--style-weights", "1,0"], both);
    expect(Buffer.from(secondOnly.data).equals(Buffer.from(scream.data))).toBe(true);
    expect(Buffer.from(firstOnly.data).equals(Buffer.from(scream.data))).toBe(false);
  }, 180_000);

  it("--original-colors keeps the content's colours", async () => {
    const args = ["--init", "noise", "--learning-rate", "10"];
    const kept = await stylizeTo("original-colors", [...args, "--original-colors"]);
    const free = await stylizeTo("free-colors", args);
    const content = await resizeImage(await decodeImage(CONTENT), kept.width, kept.height);
    expect(chromaDistance(kept, content)).toBeLessThan(3);
    expect(chromaDistance(free, content)).toBeGreaterThan(3 * chromaDistance(kept, content));
  }, 180_000);

  it("--multiscale runs coarse to fine: a 128 px level, then the full 181 px", async () => {
    const out = join(dir, "run-multiscale.png");
    const result = await atelier(
      stylizeArgs(out, 181, 2, ["--optimizer", "adam", "--multiscale", "--save-every", "1", "--json"]),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(3);
    // the checkpoint after iteration 1 is the coarse level's image, the output the full size
    expect((await sharp(join(dir, "run-multiscale_1.png")).metadata()).width).toBe(128);
    const meta = await sharp(out).metadata();
    expect([meta.width, meta.height]).toEqual([181, 136]);
  }, 180_000);

  it("--style-mask puts the style where the mask is white; the rest keeps the photo", async () => {
    const size = { width: 64, height: 48 };
    const mask = join(dir, "left-mask.png");
    const data = new Uint8Array(size.width * size.height * 3);
    for (let p = 0; p < size.width * size.height; p++)
      if (p % size.width < size.width / 2) data.fill(255, p * 3, p * 3 + 3);
    await writeFile(
      mask,
      await sharp(data, { raw: { ...size, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const out = join(dir, "run-masked.png");
    const result = await atelier(stylizeArgs(out, 64, 20, ["--style-mask", mask, "--init", "content"]));
    expect(result.code, result.stderr).toBe(0);
    const image = await decodeImage(out);
    const content = await resizeImage(await decodeImage(CONTENT), image.width, image.height);
    // one half's pixels as a 1-pixel-wide image, so distance() can compare halves
    const half = (img: RgbImage, left: boolean): RgbImage => {
      const data = img.data.filter((_, i) => Math.floor(i / 3) % img.width < img.width / 2 === left);
      return { width: 1, height: data.length / 3, data };
    };
    // the styled left half moved away from the photo far more than the unmasked right half
    expect(distance(half(image, true), half(content, true))).toBeGreaterThan(
      2 * distance(half(image, false), half(content, false)),
    );
  }, 180_000);
});
