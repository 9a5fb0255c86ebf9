import { startStack } from "./stack.ts";

export default async function globalSetup(): Promise<void> {
  const info = await startStack();
  // Workers inherit the environment of the main process.
  process.env.ATELIER_E2E_WEB_URL = info.webUrl;
  process.env.ATELIER_E2E_OPTIMIZER_URL = info.optimizerUrl;
  process.env.ATELIER_E2E_DATA_DIR = info.dataDir;
}
