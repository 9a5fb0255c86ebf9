import os from "node:os";
import { defineConfig, mergeConfig, type ViteUserConfig } from "vitest/config";

/**
 * How many times slower than a quiet machine this one runs now: the last minute's load per
 * core, between 1 and 10. The machines running the suites are shared (2 cores, often several
 * checkouts testing at once), so every wall-clock limit of a test — its timeout, a wait for an
 * event, a ceiling on how long a takeover may take — is multiplied by it: a limit stays a
 * statement about the code, not about what else the machine was doing.
 */
export function machineSlowdown(): number {
  const perCore = os.loadavg()[0]! / os.availableParallelism();
  // The load average trails: suites that `npm test` starts side by side all read it before
  // they load the machine, so it passes the slowdown it expects (ATELIER_TEST_SLOWDOWN_FLOOR).
  const floor = Number(process.env.ATELIER_TEST_SLOWDOWN_FLOOR ?? "1") || 1;
  return Math.min(10, Math.max(1, floor, Math.round(perCore * 10) / 10));
}

/**
 * What every workspace's vitest config shares: tests live in test/, and test files run one at a
 * time (the machines have 2 cores, and suites share a database, a Redis or the CPU-bound engine).
 * A workspace adds only what is its own: timeouts sized to its slowest honest test on a quiet
 * machine (scaled here by machineSlowdown, which the tests read as ATELIER_TEST_SLOWDOWN), a
 * pool, aliases.
 */
export function workspaceTestConfig(own: ViteUserConfig): ViteUserConfig {
  const slowdown = machineSlowdown();
  const scaled = (ms: number | undefined, fallback: number) => Math.round((ms ?? fallback) * slowdown);
  return mergeConfig(
    defineConfig({ test: { include: ["test/**/*.test.ts"], fileParallelism: false } }),
    mergeConfig(
      defineConfig(own),
      defineConfig({
        test: {
          testTimeout: scaled(own.test?.testTimeout, 5_000),
          hookTimeout: scaled(own.test?.hookTimeout, 10_000),
          env: { ATELIER_TEST_SLOWDOWN: String(slowdown) },
        },
      }),
    ),
  );
}
