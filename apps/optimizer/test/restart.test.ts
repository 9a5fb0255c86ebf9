/**
 * The service going away mid-run: killed outright (SIGKILL of a real `src/main.ts` process)
 * or shut down gracefully. Either way the run becomes `interrupted` with a checkpoint image
 * on disk, and a restart continues from it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Preview, RoomState, RunInfo, RunStatsEvent, RunUpdate } from "@atelier/protocol";
import type { OptimizerServer } from "../src/server.ts";
import {
  connect,
  createFixture,
  imageAt,
  pixelDistance,
  previewImage,
  request,
  SECRET,
  setDocument,
  sleep,
  startServer,
  tinyDocument,
  waitFor,
  type Client,
  type Fixture,
} from "./support.ts";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let f: Fixture;
const clients: Client[] = [];
let child: ChildProcess | null = null;

beforeAll(async () => {
  f = await createFixture("restart");
  // starts from the style image with small steps: a checkpoint looks like the painting, not the content
  await setDocument(f, tinyDocument(f, { size: 48, iterations: 2000, init: "style", learningRate: 0.5 }));
});

afterAll(async () => {
  for (const c of clients) c.close();
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
  await f?.cleanup();
});

/** Starts `tsx src/main.ts` in its own process group and resolves with its port (from its JSON log). */
async function startProcess(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: appDir,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: "0",
      DATA_DIR: f.dataDir,
      DATABASE_URL: f.databaseUrl,
      ATELIER_REALTIME_SECRET: SECRET,
      ATELIER_CHECKPOINT_EVERY: "2",
      ATELIER_PREVIEW_FPS: "2",
      NODE_ENV: "production",
    },
  });
  child = proc;
  proc.stderr!.resume();
  const lines = createInterface({ input: proc.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the service did not start")), 60_000);
    lines.on("line", (line) => {
      try {
        const record = JSON.parse(line);
        if (record.event === "optimizer.ready") {
          clearTimeout(timer);
          resolve(record.port);
        }
      } catch {
        /* not a log line */
      }
    });
    proc.once("exit", (code) => reject(new Error(`the service exited with ${code}`)));
  });
  return { url: `http://localhost:${port}`, proc };
}

async function join(server: { url: string }): Promise<{ socket: Client; state: RoomState }> {
  const socket = await connect(server, f.users.owner);
  clients.push(socket);
  const reply = await request<{ state: RoomState }>(socket, "room:join", { roomId: f.roomId });
  if (!reply.ok) throw new Error(reply.error);
  return { socket, state: reply.state };
}

async function startRun(socket: Client, restart = false): Promise<RunInfo> {
  const reply = await request<{ run: RunInfo }>(socket, "run:start", { roomId: f.roomId, restart });
  if (!reply.ok) throw new Error(reply.error);
  return reply.run;
}

describe("a stopped service", () => {
  it("refuses to start in production without a secret", async () => {
    const proc = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: appDir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: "0", DATA_DIR: f.dataDir, NODE_ENV: "production", ATELIER_REALTIME_SECRET: "" },
    });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/ATELIER_REALTIME_SECRET must be set in production/);
  });

  it("leaves an interrupted run with its checkpoint after a kill, and resumes from it", async () => {
    const { url, proc } = await startProcess();
    const { socket } = await join({ url });
    const run = await startRun(socket);
    await waitFor<RunStatsEvent>(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 4);
    // wait until the database knows the checkpoint
    for (let i = 0; i < 200; i++) {
      const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
      if (row.checkpointPath) break;
      await sleep(100);
    }
    process.kill(-proc.pid!, "SIGKILL");
    await new Promise((resolve) => proc.once("exit", resolve));
    socket.close();
    expect((await f.db.run.findUniqueOrThrow({ where: { id: run.runId } })).status).toBe("running");

    const server: OptimizerServer = await startServer(f, { checkpointEvery: 2 });
    try {
      const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
      expect(row.status).toBe("interrupted");
      expect(row.error).toMatch(/resume/);
      expect(row.checkpointPath).toBe(`runs/${run.runId}/checkpoint.png`);
      expect(existsSync(path.join(f.dataDir, row.checkpointPath!))).toBe(true);

      const checkpoint = await imageAt(path.join(f.dataDir, row.checkpointPath!), 48, 36);
      const content = await imageAt("tubingen.jpg", 48, 36);
      expect(pixelDistance(checkpoint, content)).toBeGreaterThan(20);

      const { socket: again, state } = await join(server);
      expect(state.run).toMatchObject({ runId: run.runId, status: "interrupted" });
      let version = state.version;
      for (const [field, value] of [
        ["iterations", 3],
        ["init", "content"], // a fresh start would begin at the content; the resume must not
      ] as const) {
        const edit = await request<{ version: number }>(again, "doc:edit", {
          roomId: f.roomId,
          field,
          value,
          baseVersion: version,
        });
        if (!edit.ok) throw new Error(edit.error);
        version = edit.version;
      }
      const firstPreview = waitFor<Preview>(again, "run:preview", (p) => p.runId !== run.runId);
      const resumed = await startRun(again, true);
      const frame = await firstPreview;
      expect(frame.runId).toBe(resumed.runId);
      const shown = await previewImage(frame);
      // one or two small steps from the checkpoint, far from the content
      expect(pixelDistance(shown, checkpoint)).toBeLessThan(0.25 * pixelDistance(checkpoint, content));
      expect(pixelDistance(shown, content)).toBeGreaterThan(0.75 * pixelDistance(checkpoint, content));
      const done = await waitFor<RunUpdate>(
        again,
        "run:update",
        (u) => u.run.runId === resumed.runId && u.run.status === "completed",
      );
      expect(done.run.iteration).toBe(3);
      expect((await f.db.run.findUniqueOrThrow({ where: { id: resumed.runId } })).resumedFromId).toBe(run.runId);
    } finally {
      await server.close();
    }
  });

  it("checkpoints and interrupts running jobs on a graceful shutdown", async () => {
    const server = await startServer(f, { checkpointEvery: 1000 });
    const { socket, state } = await join(server);
    await request(socket, "doc:edit", {
      roomId: f.roomId,
      field: "iterations",
      value: 2000,
      baseVersion: state.version,
    });
    const run = await startRun(socket);
    await waitFor<RunStatsEvent>(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 3);
    await server.close();
    const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
    expect(row.status).toBe("interrupted");
    expect(row.iterations).toBeGreaterThanOrEqual(3);
    // no periodic checkpoint was due (every 1000): this one was written on shutdown
    expect(row.checkpointPath).toBe(`runs/${run.runId}/checkpoint.png`);
    expect(existsSync(path.join(f.dataDir, row.checkpointPath!))).toBe(true);
  });
});
