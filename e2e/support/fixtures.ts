import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";
import { test as base, expect } from "@playwright/test";
import { takeCspViolations, watchCsp } from "./csp.ts";
import { logsDir, readStack } from "./stack.ts";

const SERVER_LOGS = ["web", "optimizer"] as const;

function logSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** What was appended to `file` since byte `from` (at most the last 64 KiB of it). */
function logSince(file: string, from: number): string {
  const end = logSize(file);
  const start = Math.max(from, end - 64 * 1024);
  if (end <= start) return "";
  const buffer = Buffer.alloc(end - start);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("utf8");
}

/**
 * The journeys' `test`: baseURL is the web app that global setup started on a free port
 * (known only at run time, so it cannot sit in the config); a failing journey gets the
 * servers' log lines written while it ran attached to its report.
 */
export const test = base.extend<{ serverLogsOnFailure: void; noCspViolations: void }>({
  baseURL: async ({}, use) => {
    await use(process.env.ATELIER_E2E_WEB_URL ?? readStack().webUrl);
  },
  serverLogsOnFailure: [
    async ({}, use, testInfo) => {
      const files = SERVER_LOGS.map((name) => ({ name, file: path.join(logsDir, `${name}.log`) }));
      const offsets = files.map(({ file }) => logSize(file));
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      for (const [i, { name, file }] of files.entries()) {
        const text = logSince(file, offsets[i]!);
        if (text) await testInfo.attach(`${name} server log`, { body: text, contentType: "text/plain" });
      }
    },
    { auto: true },
  ],
  // every page of every journey (also other people's contexts: newPerson watches them too)
  noCspViolations: [
    async ({ context }, use) => {
      takeCspViolations();
      watchCsp(context);
      await use();
      expect(takeCspViolations(), "Content-Security-Policy violations").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
