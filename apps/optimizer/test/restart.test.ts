/**
 * The service going away mid-run: killed outright (SIGKILL of a real `src/main.ts` process)
 * or shut down gracefully. Either way the run becomes `interrupted` with a checkpoint image
 * on disk, and a restart continues from it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument, serializeRunParams } from "@atelier/db";
import { PROTOCOL_VERSION, runParams, type RoomState, type RunInfo } from "@atelier/protocol";
import type { Lease } from "../src/runs/lease.ts";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  collect,
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
  waitUntil,
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
async function startProcess(env: Record<string, string> = {}): Promise<{ url: string; proc: ChildProcess }> {
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
      ...env,
    },
  });
  child = proc;
  proc.stderr.resume();
  const lines = createInterface({ input: proc.stdout });
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
  const reply = await request(socket, "room:join", { roomId: f.roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) throw new Error(reply.error);
  return { socket, state: reply.state };
}

async function startRun(socket: Client, restart = false): Promise<RunInfo> {
  const reply = await request(socket, "run:start", { roomId: f.roomId, restart });
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
    proc.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/ATELIER_REALTIME_SECRET must be set in production/);
  });

  it("leaves an interrupted run with its checkpoint after a kill, and resumes from it", async () => {
    const { url, proc } = await startProcess();
    const { socket } = await join({ url });
    const run = await startRun(socket);
    await waitFor(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 4);
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
        const edit = await request(again, "doc:edit", {
          roomId: f.roomId,
          field,
          value,
          baseVersion: version,
        });
        if (!edit.ok) throw new Error(edit.error);
        version = edit.version;
      }
      const firstPreview = waitFor(again, "run:preview", (p) => p.runId !== run.runId);
      const resumed = await startRun(again, true);
      const frame = await firstPreview;
      expect(frame.runId).toBe(resumed.runId);
      const shown = await previewImage(frame);
      // one or two small steps from the checkpoint, far from the content
      expect(pixelDistance(shown, checkpoint)).toBeLessThan(0.25 * pixelDistance(checkpoint, content));
      expect(pixelDistance(shown, content)).toBeGreaterThan(0.75 * pixelDistance(checkpoint, content));
      const done = await waitFor(
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
    await waitFor(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 3);
    await server.close();
    const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
    expect(row.status).toBe("interrupted");
    expect(row.iterations).toBeGreaterThanOrEqual(3);
    // no periodic checkpoint was due (every 1000): this one was written on shutdown
    expect(row.checkpointPath).toBe(`runs/${run.runId}/checkpoint.png`);
    expect(existsSync(path.join(f.dataDir, row.checkpointPath!))).toBe(true);
  });

  it("checkpoints, interrupts the run and exits 0 on SIGTERM", async () => {
    // no periodic checkpoint is due (every 1000): the one found afterwards was written on the way out
    const { url, proc } = await startProcess({ ATELIER_CHECKPOINT_EVERY: "1000" });
    const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
    const { socket } = await join({ url });
    const run = await startRun(socket);
    await waitFor(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 3);
    process.kill(proc.pid!, "SIGTERM");
    expect(await exited).toBe(0);
    socket.close();
    const row = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
    expect(row.status).toBe("interrupted");
    expect(row.iterations).toBeGreaterThanOrEqual(3);
    expect(row.checkpointPath).toBe(`runs/${run.runId}/checkpoint.png`);
    expect(existsSync(path.join(f.dataDir, row.checkpointPath!))).toBe(true);
  });
});

describe("issue 26: nothing acknowledged is lost, a resume continues", () => {
  it("keeps an edit and a mask stroke acknowledged right before a kill -9 (item 8)", async () => {
    // no run here: an engine process loading VGG-19 beside it (prewarm) would only burn CPU
    const { url, proc } = await startProcess({ ATELIER_PREWARM: "0" });
    const { socket, state } = await join({ url });
    const edit = await request(socket, "doc:edit", {
      roomId: f.roomId,
      field: "styleWeight",
      value: 4321,
      baseVersion: state.version,
    });
    if (!edit.ok) throw new Error(edit.error);
    const stroke = await request(socket, "mask:edit", {
      op: "stroke",
      roomId: f.roomId,
      styleImageId: f.styleImageIds[0]!,
      stroke: { strokeId: "kept-1", tool: "brush", size: 0.1, points: [[0.5, 0.5]] },
    });
    if (!stroke.ok) throw new Error(stroke.error);
    // at once, no grace: whatever was acknowledged must already be in the database
    process.kill(-proc.pid!, "SIGKILL");
    await new Promise((resolve) => proc.once("exit", resolve));
    socket.close();
    const row = await f.db.room.findUniqueOrThrow({ where: { id: f.roomId } });
    const saved = readRoomDocument(row);
    expect(saved.styleWeight).toBe(4321);
    expect(saved.masks[f.styleImageIds[0]!]!.strokes.map((s) => s.strokeId)).toEqual(["kept-1"]);
    expect(row.version).toBeGreaterThanOrEqual(stroke.version);
    // and a restarted service shows both, at a version that did not go back
    const server = await startServer(f);
    try {
      const { socket: back, state: after } = await join(server);
      expect(after.document.styleWeight).toBe(4321);
      expect(after.version).toBeGreaterThanOrEqual(stroke.version);
      const undo = await request(back, "mask:edit", {
        op: "undo",
        roomId: f.roomId,
        styleImageId: f.styleImageIds[0]!,
      });
      expect(undo.ok).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("runs only the iterations an interrupted run had left when it is resumed as it was (item 12)", async () => {
    // Long enough that the kill lands mid-run: 8 iterations left before the kill were once done
    // while the test looked for the checkpoint on a loaded machine; the kill comes a few
    // iterations after the 6th, so well over 100 are left. Not more: every iteration is run
    // once before the kill or after the resume (~35 ms of CPU each at 32 px; 300 cost ~10 s).
    const iterations = 120;
    await setDocument(f, tinyDocument(f, { size: 32, iterations, init: "style", learningRate: 0.5 }));
    const { url, proc } = await startProcess();
    const { socket } = await join({ url });
    const run = await startRun(socket);
    await waitFor(socket, "run:stats", (s) => s.runId === run.runId && s.iteration >= 6);
    await waitUntil(
      async () => Boolean((await f.db.run.findUniqueOrThrow({ where: { id: run.runId } })).checkpointPath),
      "the database knows a checkpoint",
    );
    process.kill(-proc.pid!, "SIGKILL");
    await new Promise((resolve) => proc.once("exit", resolve));
    socket.close();

    const server = await startServer(f, { checkpointEvery: 2 });
    try {
      const interrupted = await f.db.run.findUniqueOrThrow({ where: { id: run.runId } });
      expect(interrupted.status).toBe("interrupted");
      const reached = interrupted.iterations;
      expect(reached).toBeGreaterThan(0);
      const { socket: again } = await join(server);
      const stats = collect(again, "run:stats");
      const resumed = await startRun(again, true);
      // it counts on from the checkpoint, not from 1
      expect(resumed.iteration).toBe(reached);
      const done = await waitFor(
        again,
        "run:update",
        (u) => u.run.runId === resumed.runId && u.run.status === "completed",
        180_000,
      );
      expect(done.run.iteration).toBe(iterations);
      const own = stats.filter((s) => s.runId === resumed.runId).map((s) => s.iteration);
      expect(Math.min(...own)).toBe(reached + 1);
      expect(own.length).toBe(iterations - reached);
      const row = await f.db.run.findUniqueOrThrow({ where: { id: resumed.runId } });
      expect(row.resumedFromId).toBe(run.runId);
      expect(row.iterations).toBe(iterations);
    } finally {
      await server.close();
    }
  }, 400_000);
});

describe("leases after a restart", () => {
  /** A Run row as a stopped (or still living) service left it, with a lease file held by `holder`. */
  async function leftBehind(status: "running" | "queued", holder: Partial<Lease> | null): Promise<string> {
    const params = runParams.parse(tinyDocument(f, { size: 32, iterations: 2 }));
    const row = await f.db.run.create({
      data: {
        roomId: f.roomId,
        authorId: f.users.owner.id,
        params: serializeRunParams(params),
        seed: params.seed,
        status,
        startedAt: status === "running" ? new Date() : null,
      },
    });
    if (holder) {
      const dir = path.join(f.dataDir, "runs", row.id);
      mkdirSync(dir, { recursive: true });
      const lease: Lease = { nodeId: "other-node", host: hostname(), pid: 0, at: Date.now(), ...holder };
      writeFileSync(path.join(dir, "lease.json"), JSON.stringify(lease));
    }
    return row.id;
  }

  it("interrupts running runs whose holder is gone, adopts queued ones, and leaves live holders' runs alone", async () => {
    // a process that has exited (its pid is free) and one that lives while the test runs
    const gone = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => gone.once("exit", resolve));
    const alive = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    try {
      const deadHere = await leftBehind("running", { pid: gone.pid! });
      const silentElsewhere = await leftBehind("running", { host: "another-host", pid: 1, at: Date.now() - 120_000 });
      const noLease = await leftBehind("running", null);
      const liveHere = await leftBehind("running", { pid: alive.pid! });
      const liveElsewhere = await leftBehind("running", { host: "another-host", pid: 1, at: Date.now() });
      const queuedOrphan = await leftBehind("queued", { pid: gone.pid! });

      const server = await startServer(f);
      try {
        const status = async (id: string) => (await f.db.run.findUniqueOrThrow({ where: { id } })).status;
        for (const id of [deadHere, silentElsewhere, noLease]) expect(await status(id), id).toBe("interrupted");
        expect(await status(liveHere)).toBe("running");
        expect(await status(liveElsewhere)).toBe("running");
        // the orphaned queued run is taken over and runs to the end on this node
        await waitUntil(
          async () => (await status(queuedOrphan)) === "completed",
          "the adopted run completes",
          120_000,
          200,
        );
        expect(existsSync(path.join(f.dataDir, "runs", queuedOrphan, "final.png"))).toBe(true);
      } finally {
        await server.close();
      }
      // tidy up: the "live" runs are nobody's once this test ends
      await f.db.run.updateMany({ where: { id: { in: [liveHere, liveElsewhere] } }, data: { status: "cancelled" } });
    } finally {
      alive.kill("SIGKILL");
    }
  });
});
