// A small load balancer for the local cluster (`npm run start:cluster`) and the chaos tests:
// spreads clients over the optimiser gateways, round robin per connection, for plain HTTP and
// websocket upgrades alike. Gateways are stateless (any one serves any room), so the only
// affinity kept is the one Engine.IO needs for itself: a session's HTTP long-polling requests and
// its upgrade carry `sid=` and must reach the gateway that issued that sid. A gateway that fails
// its health check (GET /health) or refuses a connection is skipped until it answers again.
// Only node built-ins: start-cluster.mjs runs it without a build step.
import http from "node:http";
import net from "node:net";

/** How many sids the proxy remembers (oldest forgotten first): a session lives minutes, not days. */
const MAX_AFFINITY = 10_000;

/**
 * The backend for a new connection: the next alive one after `last` in round-robin order, or
 * null when none is alive. Pure, so the rotation and the skipping of dead gateways are unit tested.
 * @param {boolean[]} alive
 * @param {number} last index used last time (-1 before the first)
 * @returns {number | null}
 */
export function nextBackend(alive, last) {
  for (let step = 1; step <= alive.length; step++) {
    const i = (last + step) % alive.length;
    if (alive[i]) return i;
  }
  return null;
}

/**
 * The Engine.IO session id of a request URL (`/socket.io/?EIO=4&transport=polling&sid=…`), or null.
 * @param {string | undefined} url
 */
export function sessionIdOf(url) {
  const q = (url ?? "").indexOf("?");
  if (q < 0) return null;
  return new URLSearchParams(url.slice(q + 1)).get("sid");
}

/**
 * The sid an Engine.IO polling handshake answer hands out (`0{"sid":"…",…}`), or null.
 * @param {string} body
 */
export function handshakeSessionId(body) {
  const match = /^\d*0\{.*?"sid":"([^"]+)"/.exec(body);
  return match ? match[1] : null;
}

/**
 * @param {{
 *   backends: { name: string; host?: string; port: number }[];
 *   port?: number;
 *   host?: string;
 *   healthEveryMs?: number;
 *   log?: (message: string) => void;
 * }} options
 */
export async function startLoadBalancer(options) {
  const backends = options.backends.map((b) => ({ name: b.name, host: b.host ?? "127.0.0.1", port: b.port }));
  if (backends.length === 0) throw new Error("startLoadBalancer: at least one backend is needed");
  const log = options.log ?? (() => {});
  // optimistic until the first health check says otherwise
  const alive = backends.map(() => true);
  let last = -1;
  /** sid → backend index */
  const affinity = new Map();
  /** open client connections per backend, destroyed when that backend is found dead */
  const open = backends.map(() => new Set());
  const served = backends.map(() => 0);
  let closing = false;

  const setAlive = (i, up, why) => {
    if (alive[i] === up) return;
    alive[i] = up;
    log(`${backends[i].name} ${up ? "is back" : `is down (${why})`}`);
  };

  function pick(url) {
    const sid = sessionIdOf(url);
    if (sid !== null && affinity.has(sid)) return { index: affinity.get(sid), sticky: true };
    const index = nextBackend(alive, last);
    if (index !== null) last = index;
    return { index, sticky: false };
  }

  function remember(sid, index) {
    affinity.set(sid, index);
    if (affinity.size > MAX_AFFINITY) affinity.delete(affinity.keys().next().value);
  }

  function track(i, socket) {
    open[i].add(socket);
    socket.once("close", () => open[i].delete(socket));
  }

  function refuse(res, status, message) {
    if (res.headersSent) return res.destroy();
    res.writeHead(status, { "content-type": "text/plain", "cache-control": "no-store" });
    res.end(message);
  }

  // ─── plain HTTP (Engine.IO polling, /health, /internal/*) ───
  function forward(req, res, tried = new Set()) {
    const { index, sticky } = pick(req.url);
    if (index === null || tried.has(index)) return refuse(res, 502, "no gateway is up\n");
    tried.add(index);
    const b = backends[index];
    const upstream = http.request(
      { host: b.host, port: b.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const isHandshake = sessionIdOf(req.url) === null && /[?&]transport=polling/.test(req.url ?? "");
        if (isHandshake && !answer.headers["content-encoding"]) {
          let head = "";
          answer.on("data", (chunk) => {
            if (head.length < 4096) head += chunk.toString("latin1");
          });
          answer.once("end", () => {
            const sid = handshakeSessionId(head);
            if (sid) remember(sid, index);
          });
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    served[index]++;
    upstream.on("socket", (socket) => track(index, socket));
    upstream.once("error", (error) => {
      setAlive(index, false, error.code ?? error.message);
      // a GET that never reached a gateway can go to the next one; a session bound to a dead gateway is over
      if (!sticky && req.method === "GET" && !res.headersSent) return forward(req, res, tried);
      refuse(res, 502, `gateway ${b.name} failed: ${error.code ?? error.message}\n`);
    });
    req.pipe(upstream);
  }

  // ─── websocket upgrades: the raw TCP stream is spliced through ───
  function upgrade(req, client, head, tried = new Set()) {
    const { index, sticky } = pick(req.url);
    if (index === null || tried.has(index)) {
      client.end("HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n");
      return;
    }
    tried.add(index);
    const b = backends[index];
    const upstream = net.connect({ host: b.host, port: b.port });
    upstream.once("connect", () => {
      served[index]++;
      track(index, client);
      track(index, upstream);
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join("\r\n") + "\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once("error", (error) => {
      if (upstream.connecting || !upstream.remoteAddress) {
        setAlive(index, false, error.code ?? error.message);
        if (!sticky) return upgrade(req, client, head, tried);
      }
      client.destroy();
    });
    upstream.once("close", () => client.destroy());
    client.once("close", () => upstream.destroy());
    client.on("error", () => upstream.destroy());
  }

  const server = http.createServer((req, res) => forward(req, res));
  server.on("upgrade", (req, socket, head) => upgrade(req, socket, head));
  server.on("clientError", (_error, socket) => socket.destroy());
  // the proxy holds no state worth a graceful close: connections end with their gateway
  server.keepAliveTimeout = 5_000;

  // ─── health checks ───
  function check(i) {
    return new Promise((resolve) => {
      const b = backends[i];
      const req = http.get({ host: b.host, port: b.port, path: "/health", timeout: 1_000 }, (res) => {
        res.resume();
        const up = res.statusCode === 200;
        setAlive(i, up, `health ${res.statusCode}`);
        // a gateway that died without closing its sockets: cut its clients so they reconnect elsewhere
        if (!up) for (const s of open[i]) s.destroy();
        resolve(up);
      });
      req.once("timeout", () => req.destroy(new Error("health check timed out")));
      req.once("error", (error) => {
        setAlive(i, false, error.message);
        for (const s of open[i]) s.destroy();
        resolve(false);
      });
    });
  }
  let timer = null;
  const loop = async () => {
    await Promise.all(backends.map((_, i) => check(i)));
    if (!closing) timer = setTimeout(() => void loop(), options.healthEveryMs ?? 1_000);
  };
  await loop();

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = server.address().port;

  return {
    port,
    url: `http://localhost:${port}`,
    /** which gateways are up now, and how many connections each has been given */
    status: () => backends.map((b, i) => ({ name: b.name, port: b.port, alive: alive[i], served: served[i] })),
    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      for (const set of open) for (const s of set) s.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
