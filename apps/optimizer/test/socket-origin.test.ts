/**
 * The Socket.IO origin check (issue 26, item 6): the same rule as the web app's CSRF check
 * (@atelier/protocol origin.ts), on a real service. A page opened as http://127.0.0.1:3000, on
 * a LAN address, or behind a proxy connects; another site's page does not — neither by
 * polling (CORS) nor by WebSocket (browsers apply no CORS there: the handshake is refused).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import os from "node:os";
import path from "node:path";
import { io as connectClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type Db } from "@atelier/db";
import { createTestDatabase, type TestDatabase } from "@atelier/db/testing";
import { createLogger } from "../src/common/log.ts";
import { DEFAULT_SETTINGS } from "../src/config.ts";
import { createOptimizerServer, type OptimizerServer } from "../src/gateway/server.ts";
import { SECRET, tokenFor } from "./support.ts";

let dataDir: string;
let database: TestDatabase;
let db: Db;
let server: OptimizerServer;
let port: number;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "atelier-optimizer-origin-"));
  database = await createTestDatabase("optimizer", dataDir);
  db = await createDb({ url: database.url });
  // the handshake reads the token's account (its session generation): a real one
  await db.user.create({ data: { id: "u-origin", name: "Ori", email: "ori@example.test" } });
  server = await createOptimizerServer({
    ...DEFAULT_SETTINGS,
    port: 0,
    secret: SECRET,
    dataDir,
    db,
    webOrigin: "http://localhost:3000",
    allowedHosts: ["atelier.example"],
    logger: createLogger("warn"),
    prewarm: false,
  });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
  await db.$disconnect();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A polling handshake with these headers: its status and the CORS answer. */
function pollingHandshake(headers: Record<string, string>): Promise<{ status: number; allowOrigin: string | null }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path: "/socket.io/?EIO=4&transport=polling", headers },
      (res) => {
        res.resume();
        const allow = res.headers["access-control-allow-origin"];
        resolve({ status: res.statusCode ?? 0, allowOrigin: typeof allow === "string" ? allow : null });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** A real socket.io-client over WebSocket with a valid token, sending these headers: "connected", or the refusal. */
function websocket(headers: Record<string, string>): Promise<string> {
  const socket = connectClient(`http://127.0.0.1:${port}`, {
    auth: { token: tokenFor({ id: "u-origin", name: "Ori" }) },
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    extraHeaders: headers,
  });
  return new Promise((resolve) => {
    socket.once("connect", () => (socket.close(), resolve("connected")));
    socket.once("connect_error", (error) => (socket.close(), resolve(error.message)));
  });
}

describe("socket origin check", () => {
  it("the configured web origin, and pages on the host the request arrived on (127.0.0.1, a LAN address)", async () => {
    expect(await pollingHandshake({ origin: "http://localhost:3000" })).toEqual({
      status: 200,
      allowOrigin: "http://localhost:3000",
    });
    // Host is 127.0.0.1:<port>: a page opened as http://127.0.0.1:3000
    expect(await pollingHandshake({ origin: "http://127.0.0.1:3000" })).toEqual({
      status: 200,
      allowOrigin: "http://127.0.0.1:3000",
    });
    const lan = { origin: "http://192.168.1.23:3000", host: `192.168.1.23:${port}` };
    expect((await pollingHandshake(lan)).status).toBe(200);
    expect(await websocket({ origin: "http://127.0.0.1:3000" })).toBe("connected");
    expect(await websocket(lan)).toBe("connected");
  });

  it("a proxy: the listed name passed through as Host; X-Forwarded-Host is never believed", async () => {
    expect((await pollingHandshake({ origin: "https://atelier.example", host: "atelier.example" })).status).toBe(200);
    const forged = { origin: "https://evil.example", "x-forwarded-host": "evil.example" };
    expect(await pollingHandshake(forged)).toEqual({ status: 403, allowOrigin: null });
    expect(await websocket(forged)).not.toBe("connected");
  });

  it("refuses another site's page, a rebindable name that is not listed, and an address other than the one used", async () => {
    const refused: Record<string, string>[] = [
      { origin: "https://evil.example" },
      { origin: "http://rebound.evil.example:3000", host: `rebound.evil.example:${port}` },
      { origin: "http://192.168.1.99:3000", host: `192.168.1.23:${port}` },
      { origin: "null" },
    ];
    for (const headers of refused) {
      expect([headers, await pollingHandshake(headers)]).toEqual([headers, { status: 403, allowOrigin: null }]);
      expect([headers, await websocket(headers)]).not.toEqual([headers, "connected"]);
    }
  });

  it("a client without an Origin (no browser, no ambient credentials) is left to its token", async () => {
    expect((await pollingHandshake({})).status).toBe(200);
    expect(await websocket({})).toBe("connected");
  });
});
