import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  resolve: { alias: { "@": path.join(here, "src") } },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // next-auth imports "next/server" without an extension (fine for bundlers, not for Node's
    // ESM loader): let vite resolve it.
    server: { deps: { inline: ["next-auth"] } },
    // route-handler tests share one temp database per file; keep files sequential on 2 cores
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
