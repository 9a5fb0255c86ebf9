/**
 * The preview fan-out with real Socket.IO connections: a client that stops reading skips
 * frames instead of queueing them on the service, while a live client gets every frame;
 * when the slow one reads again it gets the newest frame.
 *
 * No fixed sleeps: frames go out as fast as the live client takes them, the stall is detected
 * on the service's transport (however large the kernel's socket buffers are), and every
 * wait is a condition with a deadline. The invariants are checked after every frame.
 */
// test-plan: one database engine (it opens no database: support.ts is imported for its helpers only)
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Server, type Socket as ServerSocket } from "socket.io";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { PreviewFanout } from "../src/gateway/fanout.ts";
import type { PreviewFrame } from "../src/rooms/live-room.ts";
import { waitUntil } from "./support.ts";

const ROOM = "room:r1";
let io: Server;
let url: string;
const clients: ClientSocket[] = [];

beforeAll(async () => {
  const http = createServer();
  io = new Server(http);
  io.on("connection", (socket) => void socket.join(ROOM));
  await new Promise<void>((resolve) => http.listen(0, resolve));
  url = `http://localhost:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await new Promise<void>((resolve) => void io.close(() => resolve()));
});

async function client(): Promise<{ socket: ClientSocket; frames: number[] }> {
  const socket = connectClient(url, { transports: ["websocket"], forceNew: true });
  clients.push(socket);
  const frames: number[] = [];
  socket.on("run:preview", (f: { iteration: number }) => frames.push(f.iteration));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, frames };
}

function frame(iteration: number, bytes: number): PreviewFrame {
  return {
    roomId: "r1",
    runId: "run",
    iteration,
    mime: "image/webp",
    width: 512,
    height: 512,
    data: Buffer.alloc(bytes, iteration % 256),
    encodedAt: Date.now(),
  };
}

/** What engine.io holds for a connection that it has not handed to the transport yet. */
function queuedOnService(socket: ServerSocket): number {
  return (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);

it("lets a stalled client skip frames while a live one gets them all", async () => {
  const fanout = new PreviewFanout(io, (id) => `room:${id}`);
  const live = await client();
  const slow = await client();
  await waitUntil(() => (io.sockets.adapter.rooms.get(ROOM)?.size ?? 0) === 2, "both clients are in the room");
  // stop reading on the slow client's TCP connection: the service's writes back up
  const tcp = (slow.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws
    ._socket;
  tcp.pause();

  const SIZE = 1024 * 1024; // 1 MB frames: the kernel buffers fill after a few
  const AFTER_STALL = 20; // frames sent once the slow client is known to be stalled
  const LIMIT = 500; // the stall must show within this many frames
  let sent = 0;
  const send = async () => {
    sent += 1;
    fanout.deliver(frame(sent, SIZE));
    // invariants after every frame: at most the one slow client has a frame parked, …
    expect(fanout.stats().parked).toBeLessThanOrEqual(1);
    // pace by the live client, not by a clock: it must get each frame
    await waitUntil(() => live.frames.at(-1) === sent, `the live client gets frame ${sent}`);
    // once the live client has it, nothing waits in the service's write queue of any connection:
    // a busy connection gets a parked frame instead of a queued one
    for (const s of io.sockets.sockets.values()) expect(queuedOnService(s), `write queue after frame ${sent}`).toBe(0);
  };
  // the service's side of the slow client: stalled once its transport cannot take another write
  const slowOnService = io.sockets.sockets.get(slow.socket.id!)!;
  const writable = () => (slowOnService.conn as unknown as { transport: { writable: boolean } }).transport.writable;
  while (writable()) {
    if (sent >= LIMIT) throw new Error(`the slow client never stalled in ${LIMIT} frames`);
    await send();
  }
  const stalledAt = sent;
  for (let i = 0; i < AFTER_STALL; i++) await send();

  expect(live.frames).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
  expect(fanout.stats().parked).toBe(1); // only the newest frame waits for the slow client
  expect(fanout.stats().dropped).toBeGreaterThanOrEqual(AFTER_STALL - 1);

  tcp.resume();
  await waitUntil(() => slow.frames.at(-1) === sent, "the slow client gets the newest frame");
  await waitUntil(() => fanout.stats().parked === 0, "nothing is parked any more");
  const stats = fanout.stats();
  // every frame either reached the slow client or was skipped for it — none twice, none queued
  expect(increasing(slow.frames)).toBe(true);
  expect(stats.sent).toBe(sent + slow.frames.length);
  expect(slow.frames.length + stats.dropped).toBe(sent);
  expect(slow.frames.length).toBeLessThanOrEqual(stalledAt + 1);
  fanout.close();
});
