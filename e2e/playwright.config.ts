import { defineConfig } from "@playwright/test";

// The journeys run against the real platform started by support/global-setup.ts: the web app
// and the optimisation service on free ports, a fresh SQLite database and DATA_DIR in a temp
// folder, VGG-19 weights from ../shared. One worker: the machine has 2 cores and the
// optimiser needs one of them.
export default defineConfig({
  testDir: "./tests",
  globalSetup: "./support/global-setup.ts",
  globalTeardown: "./support/global-teardown.ts",
  fullyParallel: false,
  workers: 1,
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
