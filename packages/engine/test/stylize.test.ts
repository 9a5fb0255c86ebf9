import { stylizeSuite } from "./stylize-suite.ts";

stylizeSuite("wasm");
