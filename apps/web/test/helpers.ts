import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { encode } from "next-auth/jwt";
import { closeDb, getDb, type Db } from "@atelier/db";
import { PEER_HEADER } from "@/server/client-address";
import { installPeerAddressHeader } from "@/server/peer-address";
import { createTestDatabase } from "@atelier/db/testing";

/*
 * Route handlers are called directly with real Request objects against a real, migrated temp
 * database (SQLite in DATA_DIR; a throwaway PostgreSQL database with ATELIER_TEST_DB=postgresql)
 * and DATA_DIR. Sessions are real next-auth session cookies (next-auth's own
 * JWT `encode` with the app's AUTH_SECRET), checked by the production session code.
 */

export const BASE = "http://localhost:3000";

export interface TestEnv {
  dataDir: string;
  db: Db;
  cleanup(): Promise<void>;
}

export async function setupTestEnv(): Promise<TestEnv> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "atelier-web-test-"));
  const database = await createTestDatabase("web", dataDir);
  process.env.DATA_DIR = dataDir;
  process.env.DATABASE_URL = database.url;
  process.env.AUTH_SECRET = randomBytes(32).toString("base64url");
  process.env.ATELIER_REALTIME_SECRET = randomBytes(32).toString("base64url");
  process.env.ATELIER_OPTIMIZER_URL = "http://optimizer.test:4001";
  delete process.env.ATELIER_TRUSTED_PROXIES;
  // as instrumentation.ts does in the server: requests carry their TCP peer in PEER_HEADER
  installPeerAddressHeader();
  await closeDb();
  const db = await getDb();
  return {
    dataDir,
    db,
    async cleanup() {
      await closeDb();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
export async function createUser(db: Db, name = "Ann"): Promise<{ id: string; name: string; email: string }> {
  counter++;
  const email = `${name.toLowerCase()}-${counter}-${randomBytes(3).toString("hex")}@example.com`;
  return db.user.create({ data: { name, email }, select: { id: true, name: true, email: true } }) as Promise<{
    id: string;
    name: string;
    email: string;
  }>;
}

/** A session cookie exactly as next-auth issues it over HTTP after sign-in. */
export async function sessionCookie(user: { id: string; name: string; email: string }): Promise<string> {
  const name = "authjs.session-token";
  const token = await encode({
    token: { sub: user.id, name: user.name, email: user.email },
    secret: process.env.AUTH_SECRET!,
    salt: name,
  });
  return `${name}=${token}`;
}

/**
 * `ip`: the TCP peer's address, as the server's peer-address hook records it on each request;
 * `forwardedFor`: an X-Forwarded-For header the client (or a proxy) sent.
 */
export interface RequestOptions {
  cookie?: string;
  ip?: string;
  forwardedFor?: string;
}

export function request(pathname: string, init: RequestInit & RequestOptions = {}): Request {
  const headers = new Headers(init.headers);
  if (init.cookie) headers.set("cookie", init.cookie);
  if (init.ip) headers.set(PEER_HEADER, init.ip);
  if (init.forwardedFor) headers.set("x-forwarded-for", init.forwardedFor);
  return new Request(`${BASE}${pathname}`, { ...init, headers });
}

export function jsonRequest(pathname: string, method: string, body: unknown, init: RequestOptions = {}): Request {
  return request(pathname, {
    method,
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    ...init,
  });
}

export function params<T extends Record<string, string>>(p: T): { params: Promise<T> } {
  return { params: Promise.resolve(p) };
}
