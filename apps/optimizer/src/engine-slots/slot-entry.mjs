// Entry of an engine process (engine-slots/slot-pool.ts forks it with an IPC channel). Plain JavaScript:
// the process registers tsx's loader itself and then loads the TypeScript engine side, so it
// needs no loader flags from the service (whose own flags are not passed on: execArgv is empty).
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

if (process.argv.includes("--no-onnx")) {
  // Test hook (ATELIER_TEST_NO_ONNX): ONNX Runtime cannot be imported in this process, as on a
  // machine where its native binary does not load, so the engine's automatic choice falls back.
  register(
    "data:text/javascript," +
      encodeURIComponent(
        'export async function resolve(s, c, next) { if (s === "onnxruntime-node") throw new Error("onnxruntime-node is made unloadable (ATELIER_TEST_NO_ONNX)"); return next(s, c); }',
      ),
  );
}
registerTsx();
await import("./slot-body.ts");
