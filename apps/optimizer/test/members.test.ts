/**
 * The owner changes or removes a member (the web app writes the database and tells the service,
 * signed): that member's open sockets follow at once, over real sockets and a real HTTP call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signMembershipChange, signRealtimeToken } from "@atelier/protocol/token";
import type { OptimizerServer } from "../src/gateway/server.ts";
import {
  createFixture,
  joinRoom,
  request,
  SECRET,
  startServer,
  waitFor,
  type Client,
  type Fixture,
} from "./support.ts";

let f: Fixture;
let server: OptimizerServer;
const clients: Client[] = [];

async function joined(user: Fixture["users"]["owner"]): Promise<Client> {
  return (await joinRoom(server, user, f.roomId, clients)).socket;
}

const notify = (token: string) =>
  fetch(`${server.url}/internal/membership`, { method: "POST", headers: { authorization: `Bearer ${token}` } });

describe("membership changes reach open sockets at once", () => {
  beforeAll(async () => {
    f = await createFixture("members");
    server = await startServer(f);
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server?.close();
    await f?.cleanup();
  });

  it("refuses unsigned, forged, expired and user tokens, and changes nothing", async () => {
    const change = { roomId: f.roomId, userId: f.users.editor.id };
    for (const token of [
      "",
      signMembershipChange(change, "another-secret"),
      signMembershipChange(change, SECRET, Date.now() - 120_000),
      signRealtimeToken(f.users.owner, SECRET),
    ]) {
      const res = await notify(token);
      expect(res.status).toBe(401);
    }
  });

  it("a demoted editor's sockets get the new role; a removed viewer's sockets leave the room", async () => {
    const owner = await joined(f.users.owner);
    const editorTabs = [await joined(f.users.editor), await joined(f.users.editor)];
    const viewer = await joined(f.users.viewer);

    await f.db.roomMember.update({
      where: { roomId_userId: { roomId: f.roomId, userId: f.users.editor.id } },
      data: { role: "viewer" },
    });
    const states = editorTabs.map((s) => waitFor(s, "room:state", (st) => st.role === "viewer"));
    const res = await notify(signMembershipChange({ roomId: f.roomId, userId: f.users.editor.id }, SECRET));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, sockets: 2 });
    for (const st of await Promise.all(states)) expect(st.role).toBe("viewer");

    await f.db.roomMember.delete({ where: { roomId_userId: { roomId: f.roomId, userId: f.users.viewer.id } } });
    const told = waitFor(viewer, "room:error");
    const presence = waitFor(owner, "presence", (p) => !p.members.some((m) => m.userId === f.users.viewer.id));
    const removed = await notify(signMembershipChange({ roomId: f.roomId, userId: f.users.viewer.id }, SECRET));
    expect(await removed.json()).toEqual({ ok: true, sockets: 1 });
    expect(await told).toMatchObject({ code: "forbidden", error: expect.stringMatching(/removed/) });
    const after = await presence;
    expect(after.members.find((m) => m.userId === f.users.editor.id)?.role).toBe("viewer");
    // the removed socket no longer hears the room
    const edit = await request(owner, "doc:edit", { roomId: f.roomId, field: "seed", value: 7, baseVersion: 0 });
    expect(edit.ok).toBe(true);
    expect(await request(viewer, "presence:focus", { roomId: f.roomId, field: "seed" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
  });
});
