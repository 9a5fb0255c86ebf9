/**
 * The client side of the fan-out benchmark, in its own process so that the service's
 * event loop is measured alone: N socket.io clients join one room and record, per preview
 * frame, the delay from its encoding (encodedAt, set in the worker) to its arrival.
 * Talks to bench/fanout.ts over the IPC channel.
 */
import { io, type Socket } from "socket.io-client";

interface Start {
  type: "start";
  url: string;
  roomId: string;
  tokens: string[];
}

const sockets: Socket[] = [];
/** [runId, ms] per frame received */
const latencies: [string, number][] = [];
/** frames per client, by run */
const perClient: Record<string, number>[] = [];
let bytes = 0;

function send(message: unknown): void {
  process.send!(message);
}

async function start(msg: Start): Promise<void> {
  await Promise.all(
    msg.tokens.map(
      (token, i) =>
        new Promise<void>((resolve, reject) => {
          const socket = io(msg.url, {
            auth: { token },
            transports: ["websocket"],
            forceNew: true,
            reconnection: false,
          });
          sockets.push(socket);
          perClient[i] = {};
          socket.on("run:preview", (frame: { runId: string; encodedAt?: number; data: ArrayBuffer | Uint8Array }) => {
            if (typeof frame.encodedAt === "number") latencies.push([frame.runId, Date.now() - frame.encodedAt]);
            bytes += (frame.data as ArrayBuffer).byteLength;
            perClient[i]![frame.runId] = (perClient[i]![frame.runId] ?? 0) + 1;
          });
          socket.once("connect_error", reject);
          socket.once("connect", () => {
            socket.emit("room:join", { roomId: msg.roomId }, (reply: { ok: boolean; error?: string }) =>
              reply.ok ? resolve() : reject(new Error(reply.error)),
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
