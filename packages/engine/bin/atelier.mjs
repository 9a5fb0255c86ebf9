#!/usr/bin/env node
// The engine ships TypeScript source; tsx compiles it on the fly so `npx atelier` needs no build.
import { register } from "tsx/esm/api";

register();
const { run } = await import("../src/cli.ts");
await run(process.argv.slice(2));
