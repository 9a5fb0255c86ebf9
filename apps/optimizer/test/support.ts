/**
 * Test fixtures: a temporary database (SQLite in the DATA_DIR, or a throwaway PostgreSQL
 * database with ATELIER_TEST_DB=postgresql) and DATA_DIR per test file, real users, a room
 * and real images (../shared/images stored through storage), a real service on a free port,
 * and real socket.io-client connections with signed realtime tokens.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { io as connectClient, type Socket } from "socket.io-client";
import { createDb, findRepoRoot, serializeRoomDocument, type Db } from "@atelier/db";
import { createTestDatabase } from "@atelier/db/testing";
import { decodeImage, resizeImage, type RgbImage } from "@atelier/engine";
import {
  defaultRoomDocument,
  formatZodError,
  PROTOCOL_VERSION,
  serverEventSchemas,
  type ClientToServerEvents,
  type Preview,
  type RoomDocument,
  type RoomState,
  type ServerEvent,
  type ServerEventPayload,
  type ServerToClientEvents,
} from "@atelier/protocol";
import { signRealtimeToken } from "@atelier/protocol/token";
import { storeImage } from "@atelier/storage";
import type { ServiceLimits } from "../src/common/limits.ts";
import { createLogger } from "../src/common/log.ts";
import { DEFAULT_SETTINGS, loadConfig } from "../src/config.ts";
import { createOptimizerServer, type OptimizerServer, type OptimizerServerOptions } from "../src/gateway/server.ts";

export const SECRET = "test-realtime-secret";

/** How much slower than a quiet machine this one runs now (vitest.base.ts: machineSlowdown). */
export const SLOWDOWN = Number(process.env.ATELIER_TEST_SLOWDOWN ?? "1") || 1;
/** A wall-clock limit measured on a quiet machine, for this machine now. */
export const scaled = (ms: number): number => Math.round(ms * SLOWDOWN);
export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const sharedDir = path.resolve(findRepoRoot(), "..", "shared");
export const IMAGES_DIR = process.env.ATELIER_IMAGES ?? path.join(sharedDir, "images");
process.env.ATELIER_VGG19 ??= path.join(sharedDir, "models", "vgg19");
/** ATELIER_ONNX_THREADS as the suites set it (vitest.config.ts), read by the service's own config, for startServer's engine processes; unset (benches): the service's default. */
const ENGINE_THREADS = loadConfig(process.env).engineThreads;

export interface TestUser {
  id: string;
  name: string;
}

export interface Fixture {
  dataDir: string;
  /** the fixture database's DATABASE_URL (for a service started as a process) */
  databaseUrl: string;
  db: Db;
  users: { owner: TestUser; editor: TestUser; viewer: TestUser; outsider: TestUser };
  roomId: string;
  contentImageId: string;
  styleImageIds: string[];
  /** an image only the outsider may use */
  privateImageId: string;
  cleanup(): Promise<void>;
}

/** A tiny, quick run: 64 px, 10 iterations (the CPU is shared). */
export function tinyDocument(
  f: Pick<Fixture, "contentImageId" | "styleImageIds">,
  overrides: Partial<RoomDocument> = {},
): RoomDocument {
  return {
    ...defaultRoomDocument(),
    size: 64,
    iterations: 10,
    optimizer: "adam",
    learningRate: 5,
    init: "content",
    contentImageId: f.contentImageId,
    styles: [{ imageId: f.styleImageIds[0]!, weight: 1 }],
    ...overrides,
  };
}

export async function createFixture(label: string): Promise<Fixture> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `atelier-optimizer-${label}-`));
  const database = await createTestDatabase("optimizer", dataDir);
  const db = await createDb({ url: database.url });
  const mk = async (name: string) => {
    const u = await db.user.create({ data: { name, email: `${name.toLowerCase()}@example.test` } });
    return { id: u.id, name };
  };
  const users = {
    owner: await mk("Ada"),
    editor: await mk("Bob"),
    viewer: await mk("Cleo"),
    outsider: await mk("Dan"),
  };
  const store = async (file: string, ownerId: string) =>
    (await storeImage(db, readFileSync(path.join(IMAGES_DIR, file)), { dataDir, ownerId })).id;
  const contentImageId = await store("tubingen.jpg", users.owner.id);
  const styleImageIds = [
    await store("starry_night.jpg", users.owner.id),
    await store("the_scream.jpg", users.owner.id),
  ];
  const privateImageId = await store("shipwreck.jpg", users.outsider.id);
  const document = tinyDocument({ contentImageId, styleImageIds });
  const room = await db.room.create({
    data: {
      name: "Test room",
      ownerId: users.owner.id,
      document: serializeRoomDocument(document),
      members: {
        create: [
          { userId: users.owner.id, role: "owner" },
          { userId: users.editor.id, role: "editor" },
          { userId: users.viewer.id, role: "viewer" },
        ],
      },
    },
  });
  return {
    dataDir,
    databaseUrl: database.url,
    db,
    users,
    roomId: room.id,
    contentImageId,
    styleImageIds,
    privateImageId,
    async cleanup() {
      await db.$disconnect();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function setDocument(f: Fixture, document: RoomDocument): Promise<void> {
  await f.db.room.update({ where: { id: f.roomId }, data: { document: serializeRoomDocument(document) } });
}

/** The service with its default settings but what a test needs (any free port, threads loaded on the first run), and `options`. */
export function startServer(
  f: Fixture,
  options: Partial<Omit<OptimizerServerOptions, "limits">> & { limits?: Partial<ServiceLimits> } = {},
): Promise<OptimizerServer> {
  return createOptimizerServer({
    ...DEFAULT_SETTINGS,
    port: 0,
    prewarm: false,
    engineThreads: ENGINE_THREADS,
    secret: SECRET,
    dataDir: f.dataDir,
    db: f.db,
    previewFps: 30,
    checkpointEvery: 5,
    logger: createLogger((process.env.LOG_LEVEL as "warn" | undefined) ?? "warn"),
    ...options,
    limits: { ...DEFAULT_SETTINGS.limits, ...options.limits },
  });
}

export function tokenFor(user: TestUser, ttlSeconds?: number, now?: number): string {
  return signRealtimeToken(user, SECRET, ttlSeconds, now);
}

/** A connected client (websocket only, like a browser after the upgrade). */
export function connect(server: { url: string }, auth: { token?: string } | TestUser): Promise<Client> {
  const token = "id" in auth ? tokenFor(auth) : auth.token;
  const socket: Client = connectClient(server.url, {
    auth: token === undefined ? {} : { token },
    transports: ["websocket"],
    forceNew: true,
    reconnection: true,
    reconnectionDelay: 100,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (error) => {
      socket.close();
      reject(error);
    });
  });
}

/**
 * A member's client in a room: connected to `server` (a gateway) and joined, the join's state
 * returned; a refused join throws. `clients` collects the socket for the file's afterAll.
 */
export async function joinRoom(
  server: { url: string },
  auth: { token?: string } | TestUser,
  roomId: string,
  clients?: Client[],
): Promise<{ socket: Client; state: RoomState }> {
  const socket = await connect(server, auth);
  clients?.push(socket);
  const reply = await request(socket, "room:join", { roomId, protocol: PROTOCOL_VERSION });
  if (!reply.ok) {
    socket.close();
    throw new Error(reply.error);
  }
  return { socket, state: reply.state };
}

/** What the service answers to each client event that takes an acknowledgement. */
type AckReplies = {
  [E in keyof ClientToServerEvents as Parameters<ClientToServerEvents[E]>[1] extends undefined ? never : E]: Parameters<
    NonNullable<Parameters<ClientToServerEvents[E]>[1]>
  >[0];
};

/**
 * Emits with an ack and resolves with the reply. The payload is `unknown` on purpose: tests also
 * send what a hostile client would, and the service must answer that with an error.
 */
export function request<E extends keyof AckReplies>(
  socket: Client,
  event: E,
  payload?: unknown,
): Promise<AckReplies[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), scaled(60_000));
    const done = (reply: AckReplies[E]) => {
      clearTimeout(timer);
      resolve(reply);
    };
    const s = socket as unknown as { emit(e: string, ...a: unknown[]): void };
    if (payload === undefined) s.emit(event, done);
    else s.emit(event, payload, done);
  });
}

type Listener = (payload: unknown) => void;
/** socket.io-client's typed `on`/`off` do not accept a generic event name; the payload is checked below instead. */
const untyped = (socket: Client) =>
  socket as unknown as { on(e: string, fn: Listener): void; off(e: string, fn: Listener): void };

/** A server event's payload, checked against its protocol schema: a test fails on anything the service sends off-protocol. */
function parseServerEvent<E extends ServerEvent>(event: E, payload: unknown): ServerEventPayload<E> {
  const parsed = serverEventSchemas[event].safeParse(payload);
  if (!parsed.success) throw new Error(`the service sent a malformed ${event}: ${formatZodError(parsed.error)}`);
  return parsed.data as ServerEventPayload<E>;
}

/** The next `event` whose payload passes `test` (every payload on the way is schema-checked). */
export function waitFor<E extends ServerEvent>(
  socket: Client,
  event: E,
  test: (p: ServerEventPayload<E>) => boolean = () => true,
  quietMs = 120_000,
): Promise<ServerEventPayload<E>> {
  const s = untyped(socket);
  const timeoutMs = scaled(quietMs);
  return new Promise((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      s.off(event, handler);
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${event}`))), timeoutMs);
    const handler: Listener = (raw) => {
      let payload: ServerEventPayload<E>;
      try {
        payload = parseServerEvent(event, raw);
      } catch (error) {
        return finish(() => reject(error instanceof Error ? error : new Error(String(error))));
      }
      if (test(payload)) finish(() => resolve(payload));
    };
    s.on(event, handler);
  });
}

/**
 * The iteration to end a long run at, soon: `margin` past the one it has just reached (its next
 * run:stats). Some tests start a long run so that it is surely still going through a kill, a
 * take-over or an outage; once the test has seen that, a live edit of `iterations` to this ends
 * it instead of letting the engine run on while the test waits (~60–90 ms of CPU per iteration
 * at 48–64 px). The margin covers the edit's way to the engine, so the run ends exactly there.
 */
export async function endSoonAt(socket: Client, runId: string, margin = 20): Promise<number> {
  const now = await waitFor(socket, "run:stats", (s) => s.runId === runId);
  return now.iteration + margin;
}

/** Collects every payload of `event` from now on (schema-checked: a malformed one throws in the socket's handler). */
export function collect<E extends ServerEvent>(socket: Client, event: E): ServerEventPayload<E>[] {
  const list: ServerEventPayload<E>[] = [];
  untyped(socket).on(event, (raw) => list.push(parseServerEvent(event, raw)));
  return list;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The picture a preview frame shows, decoded to RGB. */
export function previewImage(frame: Preview): Promise<RgbImage> {
  const bytes = frame.data instanceof Uint8Array ? frame.data : new Uint8Array(frame.data);
  return decodeImage(bytes, { label: "preview frame" });
}

/** An image of ../shared/images (or a file path) stretched to width × height, as the engine resizes. */
export async function imageAt(file: string, width: number, height: number): Promise<RgbImage> {
  return resizeImage(await decodeImage(path.isAbsolute(file) ? file : path.join(IMAGES_DIR, file)), width, height);
}

/** Mean absolute difference per channel value (0–255) between two RGB images of the same size. */
export function pixelDistance(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`pixelDistance: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  }
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i]! - b.data[i]!);
  return sum / a.data.length;
}

/**
 * Resolves once `condition` holds (polled every `everyMs`); rejects with `what` if it does not
 * within `timeoutMs` — a deadline for a condition, not a fixed wait.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  quietMs = 60_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + scaled(quietMs);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(everyMs);
  }
}
