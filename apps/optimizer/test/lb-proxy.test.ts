/**
 * The local cluster's load balancer (scripts/lib/lb-proxy.mjs): its pure choices, then the real
 * thing in front of two plain HTTP + Socket.IO servers — round robin per connection, polling
 * sessions kept on the gateway that issued their sid, and dead gateways skipped.
 */
// test-plan: one database engine (it opens no database: support.ts is imported for its helpers only)
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { Server } from "socket.io";
import { io as connectClient, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  handshakeSessionId,
  nextBackend,
  sessionIdOf,
  startLoadBalancer,
  type LoadBalancer,
} from "../../../scripts/lib/lb-proxy.mjs";
import { waitUntil } from "./support.ts";

describe("lb-proxy choices", () => {
  it("rotates over the alive backends and skips dead ones", () => {
    expect(nextBackend([true, true, true], -1)).toBe(0);
    expect(nextBackend([true, true, true], 0)).toBe(1);
    expect(nextBackend([true, true, true], 2)).toBe(0);
    expect(nextBackend([true, false, true], 0)).toBe(2);
    expect(nextBackend([false, true], 1)).toBe(1);
    expect(nextBackend([false, false], 0)).toBeNull();
  });

  it("reads Engine.IO session ids from URLs and handshakes", () => {
    expect(sessionIdOf("/socket.io/?EIO=4&transport=polling&sid=abc-1")).toBe("abc-1");
    expect(sessionIdOf("/socket.io/?EIO=4&transport=polling")).toBeNull();
    expect(sessionIdOf("/health")).toBeNull();
    expect(handshakeSessionId('0{"sid":"Xy_z","upgrades":["websocket"],"pingInterval":25000}')).toBe("Xy_z");
    expect(handshakeSessionId('4{"sid":"no"}')).toBeNull();
  });
});

interface Gateway {
  name: string;
  http: HttpServer;
  sockets: Set<NetSocket>;
  io: Server;
  port: number;
}

async function startGateway(name: string): Promise<Gateway> {
  const http = createServer((req, res) => {
    res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
    res.end(name);
  });
  const sockets = new Set<NetSocket>();
  http.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  const io = new Server(http);
  io.on("connection", (socket) => socket.on("whoami", (ack: (n: string) => void) => ack(name)));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { name, http, sockets, io, port: (http.address() as AddressInfo).port };
}

/** A gateway dying: its connections drop without a goodbye (a polite disconnect would stop the clients' reconnection). */
function stopGateway(g: Gateway): Promise<void> {
  const closed = new Promise<void>((resolve) => void g.io.close(() => resolve()));
  for (const s of g.sockets) s.destroy();
  return closed;
}

describe("lb-proxy in front of two gateways", () => {
  const open: { gateways: Gateway[]; lb?: LoadBalancer; clients: Socket[] } = { gateways: [], clients: [] };
  afterEach(async () => {
    for (const c of open.clients) c.close();
    await open.lb?.close();
    await Promise.all(open.gateways.filter((g) => g.http.listening).map(stopGateway));
    open.gateways = [];
    open.clients = [];
  });

  // Socket.IO delivers at most once: an emit on a connection that is dying but not yet noticed is lost,
  // so every ask has a deadline — a lost one fails here in seconds instead of hanging the test's timeout
  const whoami = (socket: Socket): Promise<string> => socket.timeout(10_000).emitWithAck("whoami");
  const connect = (url: string, transports: ("polling" | "websocket")[]) => {
    const socket = connectClient(url, { transports, forceNew: true, reconnectionDelay: 50 });
    open.clients.push(socket);
    return new Promise<Socket>((resolve, reject) => {
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", reject);
    });
  };

  it("spreads websocket and polling clients round robin, keeps each session on its gateway, skips a dead one", async () => {
    open.gateways = [await startGateway("g1"), await startGateway("g2")];
    const lb = await startLoadBalancer({
      backends: open.gateways.map((g) => ({ name: g.name, port: g.port })),
      healthEveryMs: 100,
    });
    open.lb = lb;

    const ws = [await connect(lb.url, ["websocket"]), await connect(lb.url, ["websocket"])];
    expect(await Promise.all(ws.map(whoami))).toEqual(["g1", "g2"]);
    // polling first, then the upgrade: several HTTP requests and one upgrade, all with the session's gateway
    const upgraded = await connect(lb.url, ["polling", "websocket"]);
    const first = await whoami(upgraded);
    await waitUntil(() => upgraded.io.engine.transport.name === "websocket", "the polling session upgraded", 5_000);
    expect(await whoami(upgraded)).toBe(first);
    const polling = await connect(lb.url, ["polling"]);
    const name = await whoami(polling);
    for (let i = 0; i < 5; i++) expect(await whoami(polling)).toBe(name);

    // g1 dies: its clients come back through g2, and new connections skip g1. `connected` stays true
    // until the client notices the drop, so wait for the drop itself, then the reconnect
    let dropped = false;
    ws[0]!.once("disconnect", () => (dropped = true));
    await stopGateway(open.gateways[0]!);
    await waitUntil(() => lb.status()[0]!.alive === false, "the proxy saw g1 die", 5_000);
    await waitUntil(() => dropped, "g1's client saw its connection drop", 5_000);
    await waitUntil(() => ws[0]!.connected, "g1's client reconnected", 5_000);
    expect(await whoami(ws[0]!)).toBe("g2");
    for (let i = 0; i < 3; i++) expect(await whoami(await connect(lb.url, ["websocket"]))).toBe("g2");
    expect(lb.status().map((g) => g.alive)).toEqual([false, true]);
  });

  it("answers 502 when no gateway is up", async () => {
    const g = await startGateway("g1");
    open.gateways = [g];
    const lb = await startLoadBalancer({ backends: [{ name: "g1", port: g.port }], healthEveryMs: 100 });
    open.lb = lb;
    expect((await fetch(`${lb.url}/health`)).status).toBe(200);
    await stopGateway(g);
    await waitUntil(() => !lb.status()[0]!.alive, "the proxy saw g1 die", 5_000);
    expect((await fetch(`${lb.url}/health`)).status).toBe(502);
  });
});
