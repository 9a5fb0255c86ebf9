import path from "node:path";
import { fileURLToPath } from "node:url";
import { workspaceTestConfig } from "../../vitest.base.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export default workspaceTestConfig({
  resolve: { alias: { "@": path.join(here, "src") } },
  test: {
    environment: "node",
    // next-auth imports "next/server" without an extension (fine for bundlers, not for Node's
    // ESM loader): let vite resolve it.
    server: { deps: { inline: ["next-auth"] } },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
