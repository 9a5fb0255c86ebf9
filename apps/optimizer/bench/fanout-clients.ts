/**
 * The client side of the fan-out benchmarks, in its own process so that the service's
 * event loop is measured alone: N socket.io clients, each joining its room through its
 * gateway, record per preview frame the delay from its encoding (encodedAt, set in the worker)
 * to its arrival. Talks to bench/fanout.ts (or fanout-cluster.ts) over the IPC channel.
 */
import { io, type Socket } from "socket.io-client";
import { PROTOCOL_VERSION } from "@atelier/protocol";

export interface ClientTarget {
  /** the gateway's URL */
  url: string;
  roomId: string;
  token: string;
}

interface Start {
  type: "start";
  clients: ClientTarget[];
}

const sockets: Socket[] = [];
/** [runId, ms, client index] per frame received */
const latencies: [string, number, number][] = [];
/** frames per client, by run */
const perClient: Record<string, number>[] = [];
let bytes = 0;

function send(message: unknown): void {
  process.send!(message);
}

async function start(msg: Start): Promise<void> {
  await Promise.all(
    msg.clients.map(
      ({ url, roomId, token }, i) =>
        new Promise<void>((resolve, reject) => {
          const socket = io(url, {
            auth: { token },
            transports: ["websocket"],
            forceNew: true,
            reconnection: false,
          });
          sockets.push(socket);
          perClient[i] = {};
          socket.on("run:preview", (frame: { runId: string; encodedAt?: number; data: ArrayBuffer | Uint8Array }) => {
            if (typeof frame.encodedAt === "number") latencies.push([frame.runId, Date.now() - frame.encodedAt, i]);
            bytes += (frame.data as ArrayBuffer).byteLength;
            perClient[i]![frame.runId] = (perClient[i]![frame.runId] ?? 0) + 1;
          });
          socket.once("connect_error", reject);
          socket.once("connect", () => {
            socket.emit(
              "room:join",
              { roomId, protocol: PROTOCOL_VERSION },
              (reply: { ok: boolean; error?: string }) => (reply.ok ? resolve() : reject(new Error(reply.error))),
            );
          });
        }),
    ),
  );
  send({ type: "joined", clients: sockets.length });
}

process.on("message", (msg: Start | { type: "report" } | { type: "stop" }) => {
  if (msg.type === "start") {
    start(msg).catch((error) => send({ type: "error", error: String(error) }));
  } else if (msg.type === "report") {
    send({ type: "report", latencies, perClient, bytes });
  } else {
    for (const s of sockets) s.close();
    process.exit(0);
  }
});
