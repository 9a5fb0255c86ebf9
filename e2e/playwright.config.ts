import { defineConfig } from "@playwright/test";
import { E2E_WORKERS } from "./support/workers.ts";

// The journeys run against the real platform started by support/global-setup.ts: the web app
// and the optimisation service on free ports, a fresh SQLite database and DATA_DIR in a temp
// folder, VGG-19 weights from ../shared. Two workers (ATELIER_E2E_WORKERS): a journey spends
// most of its time waiting on the page and the service, and every journey signs up users and
// makes rooms of its own; the service gets as many engine slots (support/stack.ts).
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./support/global-setup.ts",
  globalTeardown: "./support/global-teardown.ts",
  fullyParallel: false,
  workers: E2E_WORKERS,
  // Under CI a failed journey runs once more, so its report says whether it is flaky, but a
  // journey that only passed on the retry still fails the run (and `npm test` counts it as failed).
  retries: process.env.CI ? 1 : 0,
  failOnFlakyTests: true,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "playwright-report" }],
    ["json", { outputFile: "test-results/results.json" }],
  ],
  use: {
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    viewport: { width: 1366, height: 900 },
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download cannot work offline.
      executablePath: process.env.ATELIER_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
