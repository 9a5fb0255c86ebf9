import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { initTfjsBackend } from "./tfjs-backend.ts";
import { colorStats } from "../src/color-match.ts";
import { decodeImage, resizeImage } from "../src/image.ts";
import { resolveOptions, stylize } from "../src/stylize.ts";

const image = (name: string) => join(process.env.ATELIER_IMAGES!, name);
const base = { content: image("tubingen.jpg"), styles: [{ image: image("starry_night.jpg"), weight: 1 }] };

beforeAll(async () => {
  await initTfjsBackend();
});

describe("colorControl options", () => {
  it("maps originalColors to luminance and lets colorControl win", () => {
    expect(resolveOptions(base).colorControl).toBe("none");
    expect(resolveOptions({ ...base, originalColors: true }).colorControl).toBe("luminance");
    expect(resolveOptions({ ...base, colorControl: "match-style" }).colorControl).toBe("match-style");
    expect(resolveOptions({ ...base, originalColors: true, colorControl: "match-result" }).colorControl).toBe(
      "match-result",
    );
    expect(() => resolveOptions({ ...base, colorControl: "sepia" as never })).toThrow(/colorControl must be/);
  });
});

describe("colour-matched runs", () => {
  const run = (colorControl: "none" | "match-style" | "match-result") =>
    stylize({ ...base, size: 48, iterations: 8, seed: 3, colorControl }).result;

  it("match-result gives the result the content's colour mean and covariance", async () => {
    const [plain, matched] = [await run("none"), await run("match-result")];
    const content = await decodeImage(image("tubingen.jpg"));
    const target = colorStats((await resizeImage(content, matched.width, matched.height)).data);
    const distance = (px: Uint8Array) => {
      // worst mean difference and worst standard-deviation-like covariance difference, 0–255 units
      const s = colorStats(px);
      return {
        mean: Math.max(...s.mean.map((m, c) => Math.abs(m - target.mean[c]!))),
        cov: Math.sqrt(Math.max(...s.cov.map((v, i) => Math.abs(v - target.cov[i]!)))),
      };
    };
    const [d, dPlain] = [distance(matched.data), distance(plain.data)];
    // rounding to bytes and clipping leave a little; the unmatched result is further off
    expect(d.mean).toBeLessThan(2);
    expect(d.cov).toBeLessThan(6);
    expect(d.mean + d.cov).toBeLessThan((dPlain.mean + dPlain.cov) / 2);
  });

  it("match-style changes the run (the style's colours are the content's) and still stylises", async () => {
    const [plain, matched] = [await run("none"), await run("match-style")];
    expect(matched.width).toBe(plain.width);
    let diff = 0;
    for (let i = 0; i < plain.data.length; i++) diff += Math.abs(plain.data[i]! - matched.data[i]!);
    expect(diff / plain.data.length).toBeGreaterThan(2);
  });
});
