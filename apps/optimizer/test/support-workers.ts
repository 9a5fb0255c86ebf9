/**
 * Worker processes for the cluster-run tests: `src/cluster/worker-process.ts` started as a real child
 * process (node + tsx, no npm wrapper, so its pid is the worker's and SIGKILL kills it), with
 * the fixture's database and DATA_DIR, a test's own Redis key prefix, and its JSON log lines
 * kept for the test to look at.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { scaled, type Fixture } from "./support.ts";

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface WorkerProcess {
  child: ChildProcess;
  /** parsed JSON log lines so far */
  lines: Record<string, unknown>[];
  /** resolves with the first log line whose `event` is `msg` (and that passes `test`) */
  waitForLog(
    msg: string,
    test?: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function spawnWorker(f: Fixture, redisUrl: string, prefix: string, env: NodeJS.ProcessEnv = {}): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/cluster/worker-process.ts"], {
    cwd: packageDir,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      DATABASE_URL: f.databaseUrl,
      DATA_DIR: f.dataDir,
      ATELIER_REDIS_PREFIX: prefix,
      ATELIER_WORKERS: "1",
      ATELIER_CHECKPOINT_EVERY: "5",
      ATELIER_PREVIEW_FPS: "10",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  const waiters: {
    msg: string;
    test: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  let buffer = "";
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString("utf8");
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const text = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        continue; // not a log line (a library's own output)
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (line.event === w.msg && w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    lines,
    waitForLog(msg, test = () => true, quietMs = 60_000) {
      const timeoutMs = scaled(quietMs);
      const seen = lines.find((l) => l.event === msg && test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`worker ${child.pid}: no ${msg} log line`)), timeoutMs);
        waiters.push({
          msg,
          test,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
