import { startStack } from "./stack.ts";

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const info = await startStack();
  console.log(
    `[e2e] stack up in ${Math.round((Date.now() - started) / 1000)} s: web ${info.webUrl}, optimiser ${info.optimizerUrl}`,
  );
  // Workers inherit the environment of the main process.
  process.env.ATELIER_E2E_WEB_URL = info.webUrl;
  process.env.ATELIER_E2E_OPTIMIZER_URL = info.optimizerUrl;
  process.env.ATELIER_E2E_DATA_DIR = info.dataDir;
}
