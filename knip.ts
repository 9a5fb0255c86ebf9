import type { KnipConfig } from "knip";

// Dead-code check (unused files, exports, class members and dependencies), run by `npm run lint`.
const config: KnipConfig = {
  ignoreExportsUsedInFile: true,
  // system binaries, not npm ones: the chaos tests spawn their own Redis (apps/optimizer/test/support-chaos.ts);
  // the engine names the GPU adapter with vulkaninfo, the test setup checks Mesa with dpkg-query
  ignoreBinaries: ["redis-server", "vulkaninfo", "dpkg-query"],
  workspaces: {
    ".": {
      entry: ["scripts/*.mjs", "vitest.base.ts"],
      // the hand-written types of web-build.mjs and lb-proxy.mjs, read by TypeScript rather than imported
      ignore: ["scripts/lib/web-build.d.mts", "scripts/lib/lb-proxy.d.mts"],
    },
    "apps/optimizer": {
      // fanout-clients.ts runs in child processes that the fan-out benchmark spawns by path; each
      // folder's index.ts states the folder's surface (the service's files import the named files)
      entry: ["bench/*.ts", "src/*/index.ts"],
    },
    "packages/db": {
      // prisma-pg.config.ts is handed to the prisma CLI by path in the PostgreSQL tests
      entry: ["scripts/*.mts", "test/prisma-pg.config.ts"],
      // imported by the Prisma client that `prisma generate` writes into src/generated (not in git)
      ignoreDependencies: ["@prisma/client"],
    },
    "packages/engine": {
      entry: ["bin/*.mjs", "bench/*.ts", "scripts/*.ts"],
      // required by path at run time (tf-gradients.ts): its CommonJS bundle registers tfjs's gradients
      ignoreDependencies: ["@tensorflow/tfjs"],
    },
    e2e: {},
    "apps/web": {},
    "packages/files": {
      // loaded with createRequire by src/testing.ts (it ships no types), which knip does not follow
      ignoreDependencies: ["s3rver"],
    },
    "packages/*": {},
  },
};

export default config;
