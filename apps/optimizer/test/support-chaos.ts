/**
 * Fault injection for the chaos tests, all real and on loopback:
 * - a TCP fault proxy in front of any server (PostgreSQL, Redis, a gateway): `cut()` destroys
 *   every connection and stops listening, so new ones are refused as if the server were down;
 *   `restore()` listens again on the same port.
 * - a private redis-server on its own port that can be killed (-9) and started again on that
 *   port with nothing kept: the state loss of the machine's Redis, which saves nothing to disk.
 * The machine's own PostgreSQL and Redis are shared with CI and other suites: never restarted here.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { sleep, waitUntil } from "./support.ts";

export interface FaultProxy {
  port: number;
  /** how many client connections are open through the proxy now */
  readonly open: number;
  /** true between cut() and restore() */
  readonly isCut: boolean;
  /** Drops every connection at once and refuses new ones (the port stops listening). */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

/** A TCP forwarder from a free loopback port to `target`, with a kill switch. */
export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  const clients = new Set<net.Socket>();
  let cut = false;
  const onConnection = (client: net.Socket) => {
    if (cut) return client.destroy();
    const upstream = net.connect({ host: target.host ?? "127.0.0.1", port: target.port });
    clients.add(client);
    client.once("close", () => clients.delete(client));
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
      // a reset is the point of this proxy: each side just closes the other
      s.on("error", () => {});
    }
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };
  let server = net.createServer(onConnection);
  const port = await listen(server, 0);
  const closeServer = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return {
    port,
    get open() {
      return clients.size;
    },
    get isCut() {
      return cut;
    },
    async cut() {
      cut = true;
      const closed = closeServer();
      for (const s of sockets) s.destroy();
      await closed;
    },
    async restore() {
      if (!cut) return;
      server = net.createServer(onConnection);
      // the port was ours a moment ago; retry briefly in case the kernel still holds it
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(server, port);
          break;
        } catch (error) {
          if (attempt >= 20) throw error;
          await sleep(50);
        }
      }
      cut = false;
    },
    async close() {
      cut = true;
      for (const s of sockets) s.destroy();
      if (server.listening) await closeServer();
    },
  };
}

/** A port free on loopback right now (the kernel picks it; closed again before it is used). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  const port = await listen(probe, 0);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export interface PrivateRedis {
  port: number;
  url: string;
  /** `kill -9`: the server and everything it held are gone */
  kill(): Promise<void>;
  /** a fresh, empty server on the same port */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A redis-server of this test's own on a free port, keeping nothing on disk. */
export async function startRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const spawnServer = async () => {
    const proc = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    child = proc;
    const exited = new Promise<never>((_, reject) =>
      proc.once("exit", (code) => reject(new Error(`redis-server on ${port} exited (${code}) while starting`))),
    );
    exited.catch(() => {});
    await Promise.race([waitUntil(() => portAnswers(port), `redis-server listens on ${port}`, 10_000, 25), exited]);
  };
  const killServer = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((resolve) => proc.once("exit", resolve));
    proc.kill(signal);
    await gone;
  };
  await spawnServer();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => killServer("SIGKILL"),
    async start() {
      if (child) throw new Error("startRedis: the server is still running");
      await spawnServer();
    },
    stop: () => killServer("SIGKILL"),
  };
}
