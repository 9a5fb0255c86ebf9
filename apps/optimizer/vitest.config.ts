import { workspaceTestConfig } from "../../vitest.base.ts";

// the integration tests run real VGG-19 optimisations on a shared 2-core machine
export default workspaceTestConfig({
  test: {
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: "forks",
    env: {
      // One ONNX Runtime thread per engine process (spawned nodes inherit it; startServer passes
      // it on): `npm test` runs two files at a time in each of two passes on 2 cores, where a second
      // intra-op thread mostly spin-waits — 41 iterations at 48 px cost 1.9–2.0 s of CPU on one
      // thread against 3.3–3.4 s on two, in no more wall time on the loaded box.
      ATELIER_ONNX_THREADS: process.env.ATELIER_ONNX_THREADS ?? "1",
    },
  },
});
