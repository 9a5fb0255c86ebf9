import { workspaceTestConfig } from "../../vitest.base.ts";

// real image decoding and files on disk
export default workspaceTestConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
