import { workspaceTestConfig } from "../../vitest.base.ts";

// real databases and the prisma CLI: slower than unit tests
export default workspaceTestConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
