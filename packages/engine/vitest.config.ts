import { resolve } from "node:path";
import { workspaceTestConfig } from "../../vitest.base.ts";

// Tests use the real VGG-19 weights and sample images from ../shared (next to the repo),
// unless ATELIER_VGG19 / ATELIER_IMAGES point elsewhere.
const shared = resolve(import.meta.dirname, "../../../shared");

export default workspaceTestConfig({
  test: {
    // Real VGG-19 runs on a slow, shared 2-core machine: be generous.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: "forks",
    // engine test files run two at a time, each in its own fork: vitest's default on a 2-core
    // machine is one (cores − 1), and much of a file's time is single-threaded (tsx compiling the
    // CLI in each spawned process, the tfjs cpu reference, image coding, JS-side optimiser steps)
    fileParallelism: true,
    maxWorkers: 2,
    env: {
      ATELIER_VGG19: process.env.ATELIER_VGG19 ?? resolve(shared, "models", "vgg19"),
      ATELIER_IMAGES: process.env.ATELIER_IMAGES ?? resolve(shared, "images"),
    },
  },
});
