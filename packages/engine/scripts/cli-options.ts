/**
 * `npm run cli-options`: rewrites the option table in packages/engine/README.md from the CLI's
 * option table (src/cli-args.ts), between the cli-options markers. cli.test.ts fails when
 * the README is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { optionsMarkdown } from "../src/cli-usage.ts";

const README = resolve(import.meta.dirname, "../README.md");
const MARKERS = /(<!-- cli-options:start[^>]*-->\n)[\s\S]*?(\n<!-- cli-options:end -->)/;

const text = readFileSync(README, "utf8");
if (!MARKERS.test(text)) throw new Error(`${README} has no cli-options markers`);
writeFileSync(
  README,
  text.replace(MARKERS, (_, start: string, end: string) => `${start}${optionsMarkdown()}${end}`),
);
