import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inviteUsable, summarizeInvite } from "@/server/invite-landing";
import { createUser, setupTestEnv, type TestEnv } from "./helpers";

describe("inviteUsable", () => {
  const now = Date.UTC(2026, 10, 28);
  it("a live invite with uses left lets someone in", () => {
    expect(inviteUsable({ role: "editor", expiresAt: null, maxUses: null, uses: 40 }, now)).toBe(true);
    expect(inviteUsable({ role: "editor", expiresAt: new Date(now + 1), maxUses: 2, uses: 1 }, now)).toBe(true);
  });
  it("an expired or used-up invite does not", () => {
    expect(inviteUsable({ role: "editor", expiresAt: new Date(now), maxUses: null, uses: 0 }, now)).toBe(false);
    expect(inviteUsable({ role: "viewer", expiresAt: null, maxUses: 1, uses: 1 }, now)).toBe(false);
  });
});

describe("summarizeInvite", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await setupTestEnv();
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("tells a signed-out visitor the room, the inviter and the role, and nothing for a dead link", async () => {
    const ann = await createUser(env.db, "Ann");
    const room = await env.db.room.create({
      data: {
        name: "Open door",
        ownerId: ann.id,
        document: "{}",
        members: { create: { userId: ann.id, role: "owner" } },
      },
    });
    await env.db.roomInvite.create({
      data: { token: "live-token", roomId: room.id, role: "editor", createdById: ann.id },
    });
    await env.db.roomInvite.create({
      data: { token: "used-token", roomId: room.id, role: "viewer", createdById: ann.id, maxUses: 1, uses: 1 },
    });
    expect(await summarizeInvite(env.db, "live-token")).toEqual({
      roomId: room.id,
      roomName: "Open door",
      inviterName: "Ann",
      role: "editor",
    });
    expect(await summarizeInvite(env.db, "used-token")).toBeNull();
    expect(await summarizeInvite(env.db, "no-such-token")).toBeNull();
  });

  it("an inviter without a display name shows as their email's local part, never the address", async () => {
    const nameless = await env.db.user.create({ data: { email: "quiet.painter@example.com" } });
    const room = await env.db.room.create({
      data: {
        name: "Quiet",
        ownerId: nameless.id,
        document: "{}",
        members: { create: { userId: nameless.id, role: "owner" } },
      },
    });
    await env.db.roomInvite.create({
      data: { token: "nameless-token", roomId: room.id, role: "viewer", createdById: nameless.id },
    });
    expect(await summarizeInvite(env.db, "nameless-token")).toMatchObject({ inviterName: "quiet.painter" });
  });
});
