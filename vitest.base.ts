import { defineConfig, mergeConfig, type ViteUserConfig } from "vitest/config";

/**
 * What every workspace's vitest config shares: tests live in test/, and test files run one at a
 * time (the machines have 2 cores, and suites share a database, a Redis or the CPU-bound engine).
 * A workspace adds only what is its own: timeouts sized to its slowest honest test, a pool, aliases.
 */
export function workspaceTestConfig(own: ViteUserConfig): ViteUserConfig {
  return mergeConfig(
    defineConfig({ test: { include: ["test/**/*.test.ts"], fileParallelism: false } }),
    defineConfig(own),
  );
}
