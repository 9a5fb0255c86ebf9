import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // real databases and the prisma CLI: slower than unit tests; the machine has 2 cores
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
