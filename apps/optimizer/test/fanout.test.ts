/**
 * The preview fan-out with real Socket.IO connections: a client that stops reading skips
 * frames instead of queueing them on the service, while a live client gets every frame;
 * when the slow one reads again it gets the newest frame.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Server } from "socket.io";
import { io as connectClient, type Socket as ClientSocket } from "socket.io-client";
import { PreviewFanout } from "../src/fanout.ts";
import type { PreviewFrame } from "../src/rooms.ts";
import { sleep } from "./support.ts";

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

it("lets a stalled client skip frames while a live one gets them all", async () => {
  const fanout = new PreviewFanout(io, (id) => `room:${id}`);
  const live = await client();
  const slow = await client();
  await sleep(100);
  // stop reading on the slow client's TCP connection: the service's writes back up
  const tcp = (slow.socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }).ws
    ._socket;
  tcp.pause();

  const FRAMES = 40;
  const SIZE = 1024 * 1024; // 1 MB frames: the kernel buffers fill after a few
  let maxWriteBuffer = 0;
  for (let i = 1; i <= FRAMES; i++) {
    fanout.deliver(frame(i, SIZE));
    await sleep(25);
    for (const s of io.sockets.sockets.values()) {
      maxWriteBuffer = Math.max(maxWriteBuffer, (s.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length);
    }
  }
  await sleep(500);
  expect(live.frames).toEqual(Array.from({ length: FRAMES }, (_, i) => i + 1));
  const stats = fanout.stats();
  expect(stats.dropped).toBeGreaterThan(FRAMES / 2);
  expect(stats.parked).toBe(1); // only the newest frame waits for the slow client
  expect(maxWriteBuffer).toBe(0); // nothing queues behind a busy connection

  tcp.resume();
  await sleep(2000);
  expect(slow.frames.at(-1)).toBe(FRAMES); // it catches up with the newest frame
  expect(slow.frames.length).toBeLessThan(FRAMES / 2);
  expect(fanout.stats().parked).toBe(0);
  fanout.close();
});
