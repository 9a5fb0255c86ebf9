/**
 * The `atelier stylize` option table — the one place an option is declared: parseArgs reads it
 * (cli-args.ts), and the usage text and the README's option list are generated from it.
 */
import { MAX_STYLES, VGG_LAYERS, runSettings, styleRef } from "@atelier/protocol";
import { DEFAULTS, DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS } from "./defaults.ts";

/** One command-line option: how node's parseArgs reads it, and how usage and the README describe it. */
interface CliOption {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** what follows the flag in the usage line, e.g. "<px>" */
  value?: string;
  help: string;
  /** shown as "(default …)" in the usage text and in the README's default column */
  defaultText?: string;
}

/** Tiles: at least 64 px (relu5_1 needs 16 px, and a feathered overlap a quarter of the tile). */
export const MIN_TILE = 64;
/** The longest side a tiled run accepts (the room's limit without tiles is MAX_SIZE). */
export const MAX_TILED_SIZE = 4096;

const range = (schema: { minValue: number | null; maxValue: number | null }) => `${schema.minValue}–${schema.maxValue}`;
const ROOM = runSettings.parse({});

/**
 * The `atelier stylize` options: parseArgs reads this table, the usage text is generated from
 * it, and so is the option list in packages/engine/README.md (`npm run cli-options -w
 * @atelier/engine` rewrites it; a test fails when it is stale).
 */
export const OPTIONS = {
  content: {
    type: "string",
    value: "<file>",
    help: "content image (JPEG, PNG or WebP, decided by content, not name)",
    defaultText: "required",
  },
  style: {
    type: "string",
    multiple: true,
    value: "<file>[,<file>…]",
    help: `style image(s), up to ${MAX_STYLES}; comma-separated or repeated`,
    defaultText: "required",
  },
  out: {
    type: "string",
    value: "<file>",
    help: "output; .png, .jpg/.jpeg or .webp decides the format",
    defaultText: "required",
  },
  size: {
    type: "string",
    value: "<px>",
    help: `longest side of the output, ${range(runSettings.shape.size.unwrap())}`,
    defaultText: String(DEFAULTS.size),
  },
  iterations: {
    type: "string",
    value: "<n>",
    help: `optimisation steps, 1–${runSettings.shape.iterations.unwrap().maxValue} (a new room: ${ROOM.iterations})`,
    defaultText: String(DEFAULTS.iterations),
  },
  optimizer: { type: "string", value: "lbfgs|adam", help: "optimiser", defaultText: DEFAULTS.optimizer },
  "learning-rate": {
    type: "string",
    value: "<x>",
    help: `Adam step size, > 0 and ≤ ${runSettings.shape.learningRate.unwrap().maxValue}`,
    defaultText: String(DEFAULTS.learningRate),
  },
  "style-mask": {
    type: "string",
    multiple: true,
    value: "<png>[,<png>…]",
    help: "one grey mask per --style (white = that style; an empty entry leaves that style unmasked); unmasked pixels keep the photo",
    defaultText: "off",
  },
  "style-weights": {
    type: "string",
    value: "<w,…>",
    help: `blend weight per style (${range(styleRef.shape.weight)}, normalised to sum 1)`,
    defaultText: "all 1",
  },
  "content-weight": {
    type: "string",
    value: "<x>",
    help: `α, weight of the content loss, ${range(runSettings.shape.contentWeight.unwrap())}`,
    defaultText: String(DEFAULTS.contentWeight),
  },
  "style-weight": {
    type: "string",
    value: "<x>",
    help: `β, weight of the style loss, ${range(runSettings.shape.styleWeight.unwrap())}`,
    defaultText: String(DEFAULTS.styleWeight),
  },
  "tv-weight": {
    type: "string",
    value: "<x>",
    help: `total-variation weight, ${range(runSettings.shape.tvWeight.unwrap())}`,
    defaultText: String(DEFAULTS.tvWeight),
  },
  "style-scale": {
    type: "string",
    value: "<x>",
    help: `style images resized to x × the output size, ${range(runSettings.shape.styleScale.unwrap())}`,
    defaultText: String(DEFAULTS.styleScale),
  },
  init: {
    type: "string",
    value: "noise|content|style|<file>",
    help: "starting image; a file resumes from a checkpoint",
    defaultText: DEFAULTS.init,
  },
  seed: {
    type: "string",
    value: "<n>",
    help: `random seed, ${range(runSettings.shape.seed.unwrap())}; same seed + backend → same output (a new room: ${ROOM.seed})`,
    defaultText: String(DEFAULTS.seed),
  },
  pooling: { type: "string", value: "max|avg", help: "pooling between VGG blocks", defaultText: DEFAULTS.pooling },
  "content-layers": {
    type: "string",
    value: "<l,…>",
    help: "from relu1_1 … relu5_4",
    defaultText: DEFAULT_CONTENT_LAYERS.join(","),
  },
  "style-layers": {
    type: "string",
    value: "<l,…>",
    help: "from relu1_1 … relu5_4",
    defaultText: DEFAULT_STYLE_LAYERS.join(","),
  },
  "style-layer-weights": { type: "string", value: "<w,…>", help: "one weight per style layer", defaultText: "all 1" },
  "original-colors": {
    type: "boolean",
    help: "luminance-only transfer, keeps the content's colours",
    defaultText: "off",
  },
  "color-match": {
    type: "string",
    value: "style|result",
    help: "match colours to the content's (mean and covariance): the style images before the run, or the result after it",
    defaultText: "off",
  },
  tile: {
    type: "string",
    value: "<px>",
    help: `optimise levels larger than <px> (${MIN_TILE}–${MAX_TILED_SIZE}) in overlapping, shifting tiles: memory follows the tile; --size may then go up to ${MAX_TILED_SIZE}; prints the memory bound and the peak RSS`,
    defaultText: "off",
  },
  multiscale: { type: "boolean", help: "coarse-to-fine, ×√2 per level up to --size", defaultText: "off" },
  "save-every": {
    type: "string",
    value: "<n>",
    help: "also write <out>_<iteration>.<ext> every n iterations",
    defaultText: "off",
  },
  json: { type: "boolean", help: 'one JSON object per iteration on stdout, then {"done":true,…}', defaultText: "off" },
  help: { type: "boolean", short: "h", help: "show this help" },
} as const satisfies Record<string, CliOption>;

function flagText(name: string, option: CliOption): string {
  return `${option.short ? `-${option.short}, ` : ""}--${name}${option.value ? ` ${option.value}` : ""}`;
}

const ENTRIES = Object.entries(OPTIONS) as [string, CliOption][];
const HELP_COLUMN = 29;

function usageLine([name, option]: [string, CliOption]): string {
  const flag = `  ${flagText(name, option)}`;
  const help =
    option.defaultText === "required"
      ? `${option.help} (required)`
      : option.defaultText && option.defaultText !== "off"
        ? `${option.help} (default ${option.defaultText})`
        : option.help;
  return flag.length < HELP_COLUMN ? flag.padEnd(HELP_COLUMN) + help : `${flag}\n${" ".repeat(HELP_COLUMN)}${help}`;
}

export const USAGE = `Usage: atelier stylize --content <image> --style <image>[,<image>…] --out <file> [options]

Neural style transfer (Gatys et al. 2015) with VGG-19. Images: JPEG, PNG or WebP.
The output format follows the --out extension: .png, .jpg/.jpeg or .webp.

Options:
${ENTRIES.map(usageLine).join("\n")}

Layers: ${VGG_LAYERS.join(", ")}.

Environment:
  ATELIER_VGG19    VGG-19 weights: a folder with model.json + .bin files, or the http(s) URL of a
                   model.json (default <repo>/models/vgg19, filled by \`npm run weights\`)
  ATELIER_BACKEND  onnx, tensorflow-gpu, tensorflow, wasm or cpu (default: the fastest that
                   loads: tensorflow-gpu with a CUDA GPU, else onnx, tensorflow, wasm)
`;

/** The README's option table (packages/engine/README.md, between the cli-options markers). */
export function optionsMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const rows = ENTRIES.map(([name, option]) => {
    const flag = option.short ? `\`-${option.short}\`, \`--${name}\`` : `\`${cell(flagText(name, option))}\``;
    return `| ${flag} | ${cell(option.help)} | ${cell(option.defaultText ?? "")} |`;
  });
  return ["| option | meaning | default |", "|---|---|---|", ...rows].join("\n");
}
