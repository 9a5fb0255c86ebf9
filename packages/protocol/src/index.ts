export * from "./params.ts";
export * from "./events.ts";
export * from "./api.ts";
export * from "./provenance.ts";
export * from "./cluster.ts";
export * from "./image-types.ts";
export * from "./run-history.ts";
export * from "./sweeps.ts";
