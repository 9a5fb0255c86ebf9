import { workspaceTestConfig } from "../../vitest.base.ts";

// the integration tests run real VGG-19 optimisations on a shared 2-core machine
export default workspaceTestConfig({ test: { testTimeout: 180_000, hookTimeout: 180_000, pool: "forks" } });
