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
  type Ack,
  type ClientToServerEvents,
  type Preview,
  type RoomDocument,
  type ServerToClientEvents,
} from "@atelier/protocol";
import { signRealtimeToken } from "@atelier/protocol/token";
import { storeImage } from "@atelier/storage";
import { createLogger } from "../src/log.ts";
import { createOptimizerServer, type OptimizerServer, type OptimizerServerOptions } from "../src/server.ts";

export const SECRET = "test-realtime-secret";
export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const sharedDir = path.resolve(findRepoRoot(), "..", "shared");
export const IMAGES_DIR = process.env.ATELIER_IMAGES ?? path.join(sharedDir, "images");
process.env.ATELIER_VGG19 ??= path.join(sharedDir, "models", "vgg19");

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

export function startServer(f: Fixture, options: Partial<OptimizerServerOptions> = {}): Promise<OptimizerServer> {
  return createOptimizerServer({
    port: 0,
    secret: SECRET,
    dataDir: f.dataDir,
    db: f.db,
    previewFps: 30,
    checkpointEvery: 5,
    logger: createLogger((process.env.LOG_LEVEL as "warn" | undefined) ?? "warn"),
    ...options,
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

/** Emits with an ack and resolves with the reply. */
export function request<R = Record<string, unknown>>(
  socket: Client,
  event: string,
  payload?: unknown,
): Promise<Ack<R>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 60_000);
    const done = (reply: Ack<R>) => {
      clearTimeout(timer);
      resolve(reply);
    };
    const s = socket as unknown as { emit(e: string, ...a: unknown[]): void };
    if (payload === undefined) s.emit(event, done);
    else s.emit(event, payload, done);
  });
}

/** The next `event` whose payload passes `test`. */
export function waitFor<T = any>(
  socket: Client,
  event: string,
  test: (p: T) => boolean = () => true,
  timeoutMs = 120_000,
): Promise<T> {
  const s = socket as unknown as { on(e: string, fn: (p: T) => void): void; off(e: string, fn: (p: T) => void): void };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off(event, handler);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const handler = (p: T) => {
      if (!test(p)) return;
      clearTimeout(timer);
      s.off(event, handler);
      resolve(p);
    };
    s.on(event, handler);
  });
}

/** Collects every payload of `event` from now on. */
export function collect<T = any>(socket: Client, event: string): T[] {
  const list: T[] = [];
  (socket as unknown as { on(e: string, fn: (p: T) => void): void }).on(event, (p: T) => list.push(p));
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
  timeoutMs = 60_000,
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(everyMs);
  }
}
