// Entry of a run's worker thread. Node 20 ignores `--import tsx` in a Worker's execArgv
// (the thread fails with 'Unknown file extension ".ts"'; verified), so the thread registers
// tsx's loader itself and then loads the TypeScript worker.
import { register } from "tsx/esm/api";

register();
await import("./slot-body.ts");
