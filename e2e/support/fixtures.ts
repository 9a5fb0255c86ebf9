import { test as base, expect } from "@playwright/test";
import { readStack } from "./stack.ts";

/**
 * The journeys' `test`: baseURL is the web app that global setup started on a free port
 * (known only at run time, so it cannot sit in the config).
 */
export const test = base.extend({
  baseURL: async ({}, use) => {
    await use(process.env.ATELIER_E2E_WEB_URL ?? readStack().webUrl);
  },
});

export { expect };
