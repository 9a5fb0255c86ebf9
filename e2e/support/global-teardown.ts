import { stopStack } from "./stack.ts";

// Playwright runs this after the tests whatever their outcome (and after a failed global
// setup); startStack also stops what it started when it fails, so nothing is left running.
export default async function globalTeardown(): Promise<void> {
  await stopStack();
}
