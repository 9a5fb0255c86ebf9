/**
 * Cluster fixtures for the chaos tests: optimiser gateways and workers as real child processes
 * (so `kill -9` is a real death), sharing the fixture's PostgreSQL database and DATA_DIR and a
 * Redis, and room clients that behave like the studio page (apps/web/src/lib/realtime.ts): on
 * every (re)connection they join the room again and take the state they are given.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { io as connectClient } from "socket.io-client";
import { S3FileStore, type FileStore } from "@atelier/files";
import { S3_EMULATOR_CREDENTIALS, startS3Emulator, type S3Emulator } from "@atelier/files/testing";
import type { RoomDocument, RunInfo } from "@atelier/protocol";
import { startRedis, type PrivateRedis } from "./support-chaos.ts";
import {
  createFixture,
  SECRET,
  scaled,
  setDocument,
  tinyDocument,
  tokenFor,
  type Client,
  type Fixture,
  type TestUser,
} from "./support.ts";
import { PROTOCOL_VERSION } from "@atelier/protocol";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// tsx as a loader in the process itself: its CLI would run the script in a child, and a kill -9
// of the CLI would leave that child (the real server) running
const tsxLoader = pathToFileURL(path.resolve(appDir, "..", "..", "node_modules", "tsx", "dist", "loader.mjs")).href;
const workerMain = path.join(appDir, "src", "cluster", "worker-process.ts");

export interface NodeProcess {
  name: string;
  pid: number;
  /** the HTTP port (gateways; workers only when given one) */
  port: number;
  url: string;
  /** the last lines it wrote, for a failing test's message */
  tail(): string;
  /** resolves when a log line with this event (or passing this test) appears (from now on, or already seen) */
  waitForLog(event: string | LogTest, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** whether a log line so far passes the test */
  hasLogged(test: LogTest): boolean;
  readonly exited: boolean;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** the child process itself: its IPC channel when spawned with `ipc` (the fan-out bench asks its gateways for figures) */
  child: ChildProcess;
}

type LogTest = (record: Record<string, unknown>) => boolean;

interface SpawnOptions {
  name: string;
  /** the cluster's Redis; none: an embedded service */
  redisUrl?: string;
  /** extra environment (ATELIER_ROLE, PORT, …) */
  env?: Record<string, string>;
  /** the log event that says it is ready, and where its port is */
  readyEvent: string;
  /** open an IPC channel to it (`child.send`); off for the chaos tests' nodes */
  ipc?: boolean;
}

const nodeLogDir = process.env.ATELIER_TEST_NODE_LOGS;

function spawnNode(f: Fixture, entry: string, o: SpawnOptions): Promise<NodeProcess> {
  const child: ChildProcess = spawn(process.execPath, ["--import", tsxLoader, entry], {
    cwd: appDir,
    env: {
      ...process.env,
      DATABASE_URL: f.databaseUrl,
      DATA_DIR: f.dataDir,
      REDIS_URL: o.redisUrl,
      ATELIER_REALTIME_SECRET: SECRET,
      ATELIER_PREVIEW_FPS: "10",
      ATELIER_CHECKPOINT_EVERY: "5",
      LOG_LEVEL: "info",
      PORT: "0",
      ...o.env,
    },
    stdio: o.ipc ? ["ignore", "pipe", "pipe", "ipc"] : ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const seen: Record<string, unknown>[] = [];
  const waiters: { test: LogTest; resolve: (r: Record<string, unknown>) => void }[] = [];
  let exited = false;
  const onLine = (line: string) => {
    // ATELIER_TEST_NODE_LOGS=<dir>: every line of every spawned node kept there, to read a failed chaos run
    if (nodeLogDir) appendFileSync(path.join(nodeLogDir, `${o.name}.log`), `${line}\n`);
    lines.push(line);
    if (lines.length > 60) lines.shift();
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    seen.push(record);
    for (const w of waiters.filter((w) => w.test(record))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(record);
    }
  };
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      parts.forEach(onLine);
    });
  }
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const tail = () => `${o.name}:\n${lines.join("\n")}`;
  const waitForLog = (event: string | LogTest, quietMs = 90_000) => {
    const timeoutMs = scaled(quietMs);
    const test: LogTest = typeof event === "string" ? (r) => r.event === event : event;
    const what = typeof event === "string" ? event : "the awaited";
    const already = seen.find(test);
    if (already) return Promise.resolve(already);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${o.name}: no ${what} log within ${timeoutMs} ms\n${tail()}`)),
        timeoutMs,
      );
      waiters.push({
        test,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`${o.name} exited before ${what} log\n${tail()}`));
      });
    });
  };
  return waitForLog(o.readyEvent).then((ready) => {
    const port = typeof ready.port === "number" ? ready.port : 0;
    return {
      name: o.name,
      pid: child.pid!,
      port,
      url: `http://127.0.0.1:${port}`,
      tail,
      waitForLog,
      hasLogged: (test: LogTest) => seen.some(test),
      child,
      get exited() {
        return exited;
      },
      async kill(signal: NodeJS.Signals = "SIGTERM") {
        if (exited) return;
        child.kill(signal);
        await exit;
      },
    };
  });
}

/** The whole service in one process, embedded (`npm start -w @atelier/optimizer`: no Redis), on a free port. */
export function spawnService(f: Fixture, name: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  return spawnNode(f, path.join(appDir, "src", "main.ts"), { name, readyEvent: "optimizer.ready", env });
}

/**
 * An optimiser gateway (`ATELIER_ROLE=gateway npm start -w @atelier/optimizer`) on a free port.
 * `entry`: another script that starts one (it must log `optimizer.ready` with its port), such
 * as the fan-out bench's gateway with its IPC channel (`ipc`).
 */
export function spawnGateway(
  f: Fixture,
  name: string,
  redisUrl: string,
  env: Record<string, string> = {},
  o: { entry?: string; ipc?: boolean } = {},
) {
  return spawnNode(f, o.entry ?? path.join(appDir, "src", "main.ts"), {
    name,
    redisUrl,
    readyEvent: "optimizer.ready",
    env: { ATELIER_ROLE: "gateway", ...env },
    ipc: o.ipc,
  });
}

/** An optimisation worker (`npm run worker`): takes jobs from the shared queue. `entry`, `ipc`: as for spawnGateway. */
export function spawnWorker(
  f: Fixture,
  name: string,
  redisUrl: string,
  env: Record<string, string> = {},
  o: { entry?: string; ipc?: boolean } = {},
) {
  return spawnNode(f, o.entry ?? workerMain, {
    name,
    redisUrl,
    readyEvent: "worker.ready",
    env: { ATELIER_ROLE: "worker", ...env },
    ipc: o.ipc,
  });
}

/** What a studio page knows about its room: the state of its last join plus the events since. */
export interface RoomView {
  socket: Client;
  user: TestUser;
  document: RoomDocument | null;
  version: number;
  run: RunInfo | null;
  /** how many times it has joined (1 = the first join; more = resyncs after reconnections) */
  joins: number;
  /** Date.now() of the last successful join */
  joinedAt: number;
  /** Date.now() of the last disconnect */
  disconnectedAt: number | null;
  close(): void;
}

/**
 * A client like the studio page: default Socket.IO reconnection (the browser's), a fresh token
 * on each attempt, and room:join again on every connect.
 */
export function openRoom(url: string, user: TestUser, roomId: string): Promise<RoomView> {
  const socket: Client = connectClient(url, {
    auth: (cb) => cb({ token: tokenFor(user) }),
    transports: ["websocket"],
    forceNew: true,
  });
  const view: RoomView = {
    socket,
    user,
    document: null,
    version: 0,
    run: null,
    joins: 0,
    joinedAt: 0,
    disconnectedAt: null,
    close: () => socket.close(),
  };
  socket.on("disconnect", () => (view.disconnectedAt = Date.now()));
  socket.on("doc:changed", (p) => {
    if (p.roomId !== roomId || !view.document || p.version <= view.version) return;
    view.document = { ...view.document, [p.field]: p.value };
    view.version = p.version;
  });
  socket.on("run:update", (p) => {
    if (p.roomId === roomId) view.run = p.run;
  });
  return new Promise((resolve, reject) => {
    const join = () =>
      socket.emit("room:join", { roomId, protocol: PROTOCOL_VERSION }, (reply) => {
        if (!reply.ok) return reject(new Error(`${user.name} could not join: ${reply.error}`));
        view.document = reply.state.document;
        view.version = reply.state.version;
        view.run = reply.state.run;
        view.joins++;
        view.joinedAt = Date.now();
        if (view.joins === 1) resolve(view);
      });
    socket.on("connect", join);
    socket.once("connect_error", (error) => {
      if (view.joins === 0) reject(error);
    });
  });
}

/** Every edit the service accepted (its ack said ok), to check afterwards that none was lost. */
export interface AcceptedEdit {
  field: string;
  value: unknown;
  version: number;
  by: string;
}

/**
 * Sends one edit and records it when accepted; a refusal or a missing ack (the service is
 * degraded: that is what chaos tests do to it) is not an accepted edit and is only counted.
 */
export async function tryEdit(
  view: RoomView,
  roomId: string,
  field: "styleWeight" | "contentWeight" | "tvWeight" | "iterations",
  value: number,
  log: { accepted: AcceptedEdit[]; refused: number },
  timeoutMs = 3_000,
): Promise<boolean> {
  if (!view.socket.connected) {
    log.refused++;
    return false;
  }
  const reply = await view.socket
    .timeout(timeoutMs)
    .emitWithAck("doc:edit", { roomId, field, value, baseVersion: view.version })
    .catch(() => null);
  if (reply?.ok) {
    log.accepted.push({ field, value, version: reply.version, by: view.user.name });
    return true;
  }
  log.refused++;
  return false;
}

/** The value each field must have now: that of its accepted edit with the highest version. */
export function expectedValues(accepted: AcceptedEdit[]): Record<string, unknown> {
  const last: Record<string, AcceptedEdit> = {};
  for (const e of accepted) if (!last[e.field] || e.version > last[e.field]!.version) last[e.field] = e;
  return Object.fromEntries(Object.entries(last).map(([field, e]) => [field, e.value]));
}

/**
 * One chaos test file's cluster: its fixture room (a tiny run of `iterations`), a private Redis,
 * gateways then workers as real processes (named gateway-1…, worker-1…, started together), and
 * every room client opened through it. `stop()` ends them all, whatever state the test left.
 */
export interface ChaosCluster {
  f: Fixture;
  /** with `s3`: the emulator holding the files, each node's own DATA_DIR, and the bucket's store as seen from the test */
  s3: { emulator: S3Emulator; store: FileStore; dataDirs: Map<string, string> } | null;
  redis: PrivateRedis;
  gateways: NodeProcess[];
  workers: NodeProcess[];
  /** a member's studio-like client of the fixture room through `url` (a gateway's or a balancer's) */
  open(url: string, user: TestUser): Promise<RoomView>;
  stop(): Promise<void>;
}

export async function startChaosCluster(
  label: string,
  o: {
    iterations: number;
    gateways: number;
    workers: number;
    /** extra environment of every node; a function when it needs the fixture (a proxied DATABASE_URL) */
    env?: Record<string, string> | ((f: Fixture) => Promise<Record<string, string>>);
    /** settings of the room's document other than tinyDocument's */
    document?: Partial<RoomDocument>;
    /**
     * the files in an S3 bucket (the s3rver emulator) instead of the fixture's DATA_DIR: the
     * fixture's images are copied there, and every node gets its own DATA_DIR (no shared folder)
     */
    s3?: boolean;
  },
): Promise<ChaosCluster> {
  const f = await createFixture(label);
  const views: RoomView[] = [];
  let redis: PrivateRedis | null = null;
  let nodes: NodeProcess[] = [];
  let s3: ChaosCluster["s3"] = null;
  try {
    await setDocument(f, tinyDocument(f, { ...o.document, iterations: o.iterations }));
    const env = typeof o.env === "function" ? await o.env(f) : (o.env ?? {});
    if (o.s3) s3 = await filesInS3(f, label);
    const envOf = (name: string) => {
      if (!s3) return env;
      const own = mkdtempSync(path.join(os.tmpdir(), `atelier-${label}-${name}-`));
      s3.dataDirs.set(name, own);
      return { ...env, ...s3.emulator.env(S3_BUCKET, label), DATA_DIR: own };
    };
    const started = await startRedis();
    redis = started;
    const names = (kind: string, n: number) => Array.from({ length: n }, (_, i) => `${kind}-${i + 1}`);
    nodes = await Promise.all([
      ...names("gateway", o.gateways).map((name) => spawnGateway(f, name, started.url, envOf(name))),
      ...names("worker", o.workers).map((name) => spawnWorker(f, name, started.url, envOf(name))),
    ]);
  } catch (error) {
    await Promise.all(nodes.map((n) => n.kill("SIGKILL")));
    await redis?.stop();
    await closeS3(s3);
    await f.cleanup();
    throw error;
  }
  return {
    f,
    s3,
    redis,
    gateways: nodes.slice(0, o.gateways),
    workers: nodes.slice(o.gateways),
    async open(url, user) {
      const view = await openRoom(url, user, f.roomId);
      views.push(view);
      return view;
    },
    async stop() {
      for (const v of views) v.close();
      await Promise.all(nodes.map((n) => n.kill("SIGTERM")));
      await redis?.stop();
      await closeS3(s3);
      await f.cleanup();
    },
  };
}

const S3_BUCKET = "atelier-chaos";

/** An S3 emulator with the fixture's images in its bucket, under the prefix `label/`. */
async function filesInS3(f: Fixture, label: string): Promise<NonNullable<ChaosCluster["s3"]>> {
  const emulator = await startS3Emulator([S3_BUCKET]);
  const own = mkdtempSync(path.join(os.tmpdir(), `atelier-${label}-test-`));
  const store = new S3FileStore({
    bucket: S3_BUCKET,
    prefix: `${label}/`,
    endpoint: emulator.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    cacheDir: own,
    credentials: { ...S3_EMULATOR_CREDENTIALS },
  });
  const images = path.join(f.dataDir, "images");
  for (const name of readdirSync(images)) await store.write(`images/${name}`, readFileSync(path.join(images, name)));
  return { emulator, store, dataDirs: new Map([["test", own]]) };
}

async function closeS3(s3: ChaosCluster["s3"]): Promise<void> {
  if (!s3) return;
  await s3.emulator.close();
  for (const dir of s3.dataDirs.values()) rmSync(dir, { recursive: true, force: true });
}
