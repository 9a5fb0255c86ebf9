#!/usr/bin/env node
// `npm test`: every test of the monorepo — unit and integration (turbo, one package at a
// time: the machine has 2 cores and the engine tests are CPU-bound), then the e2e journeys.
import { spawnSync } from "node:child_process";

function run(cmd, args) {
  console.log(`\n▶ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", env: process.env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run("npx", ["turbo", "run", "test", "--concurrency=1", "--continue=never"]);
