export * from "./params.ts";
export * from "./events.ts";
