/**
 * The engine processes at their edges, with real VGG-19 at tiny sizes: with ONNX Runtime
 * unloadable (the test hook) a run and a sweep cell fall back to wasm and say so; a service whose
 * engine process aborted natively fails only that run, runs the next, and on SIGTERM exits 0
 * leaving no engine process behind.
 */
// test-plan: one database engine (what it checks is the engine processes: the backend they load,
// a native abort, their exit; the Run row's backend column is runs.test.ts's, on both engines)
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION, type RunInfo } from "@atelier/protocol";
import type { OptimizerServer } from "../src/gateway/server.ts";
import { spawnService } from "./support-cluster.ts";
import {
  connect,
  createFixture,
  request,
  setDocument,
  startServer,
  tinyDocument,
  waitFor,
  type Client,
  type Fixture,
} from "./support.ts";

let f: Fixture;

beforeAll(async () => {
  f = await createFixture("engine-processes");
  await setDocument(f, tinyDocument(f, { size: 48, iterations: 3 }));
});
afterAll(async () => {
  await f?.cleanup();
});

async function joined(server: { url: string }): Promise<Client> {
  const socket = await connect(server, f.users.owner);
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  return socket;
}

async function runToEnd(socket: Client): Promise<RunInfo> {
  const reply = await request(socket, "run:start", { roomId: f.roomId });
  if (!reply.ok) throw new Error(reply.error);
  const runId = reply.run.runId;
  const end = await waitFor(
    socket,
    "run:update",
    (u) => u.run.runId === runId && !["queued", "running"].includes(u.run.status),
    240_000,
  );
  return end.run;
}

/** The service's engine processes (its other children, such as tsx's esbuild, are not counted). */
function enginesOf(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("slot-entry.mjs"))
      .map((line) => Number(line.trim().split(/\s+/)[0]))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when it lists nothing
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("ONNX Runtime made unloadable", () => {
  let server: OptimizerServer;
  afterAll(async () => {
    await server?.close();
  });

  it("a run and a sweep cell run on wasm, and the run, the cell and /health say so", async () => {
    server = await startServer(f, { testNoOnnx: true, prewarm: false });
    const socket = await joined(server);
    const run = await runToEnd(socket);
    expect(run.status).toBe("completed");
    expect((await f.db.run.findUniqueOrThrow({ where: { id: run.runId } })).backend).toBe("wasm");
    const health = (await (await fetch(`${server.url}/health`)).json()) as { backend: string };
    expect(health.backend).toBe("wasm");

    const reply = await request(socket, "sweep:start", {
      roomId: f.roomId,
      axes: [{ param: "styleWeight", values: [10, 1000] }],
      size: 32,
      iterations: 2,
    });
    if (!reply.ok) throw new Error(reply.error);
    const done = await waitFor(
      socket,
      "sweep:update",
      (u) => u.sweep.sweepId === reply.sweep.sweepId && u.sweep.cells.every((c) => c.status === "completed"),
      240_000,
    );
    expect(done.sweep.cells.map((c) => c.backend)).toEqual(["wasm", "wasm"]);
    socket.close();
  }, 600_000);
});

describe("the service as a process", () => {
  it("a native abort in an engine process fails only its run; SIGTERM then exits 0 with no engine process left", async () => {
    const service = await spawnService(f, "service", { ATELIER_TEST_ENGINE_ABORT_AT: "2" });
    try {
      const socket = await joined(service);
      const aborted = await runToEnd(socket);
      expect(aborted.status).toBe("failed");
      expect(aborted.error).toMatch(/native abort/);
      // the service goes on: the next run completes in a new engine process, which stays loaded
      expect((await runToEnd(socket)).status).toBe("completed");
      const engines = enginesOf(service.pid);
      expect(engines.length).toBeGreaterThan(0);
      socket.close();

      await service.kill("SIGTERM");
      expect(service.child.exitCode).toBe(0);
      expect(engines.filter(alive)).toEqual([]);
    } finally {
      await service.kill("SIGKILL");
    }
  }, 600_000);
});
