/**
 * Issue 26, items 5 and 10: joining is a POST the visitor confirms (never opening a link), and
 * invite links die with their people — removing a member revokes the link they joined with and
 * the links they minted; a link never grants more than its minter may hand out now.
 */
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roleOf } from "@atelier/db";
import { proxy } from "@/proxy";
import { summarizeInvite } from "@/server/invite-landing";
import { inviteGrant } from "@/server/rooms";
import { createUser, jsonRequest, params, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
});
afterAll(async () => env.cleanup());

type Person = Awaited<ReturnType<typeof createUser>>;

async function room(name: string) {
  const ann = await createUser(env.db, "Ann");
  const r = await env.db.room.create({
    data: { name, ownerId: ann.id, document: "{}", members: { create: [{ userId: ann.id, role: "owner" }] } },
  });
  return { ann, roomId: r.id };
}

async function mint(roomId: string, who: Person, role: "editor" | "viewer"): Promise<string> {
  const { POST } = await import("@/app/api/rooms/[id]/invites/route");
  const res = await POST(
    jsonRequest(`/api/rooms/${roomId}/invites`, "POST", { role }, { cookie: await sessionCookie(who) }),
    params({ id: roomId }),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function join(token: string, who: Person): Promise<Response> {
  const { POST } = await import("@/app/api/invites/[token]/route");
  return POST(
    jsonRequest(`/api/invites/${token}`, "POST", {}, { cookie: await sessionCookie(who) }),
    params({ token }),
  );
}

async function remove(roomId: string, actor: Person, member: Person): Promise<number> {
  const { DELETE } = await import("@/app/api/rooms/[id]/members/[userId]/route");
  const res = await DELETE(
    request(`/api/rooms/${roomId}/members/${member.id}`, { method: "DELETE", cookie: await sessionCookie(actor) }),
    params({ id: roomId, userId: member.id }),
  );
  return res.status;
}

describe("joining with an invite is a POST", () => {
  it("POST /api/invites/[token] joins with the link's role; signed out 401; a form post 415; nothing joined then", async () => {
    const { ann, roomId } = await room("Door");
    const token = await mint(roomId, ann, "editor");
    const bo = await createUser(env.db, "Bo");
    // the page's summary (what "Join" is shown with) changes nothing
    expect(await summarizeInvite(env.db, token)).toMatchObject({ roomName: "Door", role: "editor" });
    expect(await roleOf(env.db, roomId, bo.id)).toBeNull();

    const { POST } = await import("@/app/api/invites/[token]/route");
    const signedOut = await POST(jsonRequest(`/api/invites/${token}`, "POST", {}), params({ token }));
    expect(signedOut.status).toBe(401);
    const form = await POST(
      request(`/api/invites/${token}`, {
        method: "POST",
        cookie: await sessionCookie(bo),
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "",
      }),
      params({ token }),
    );
    expect(form.status).toBe(415);
    expect(await roleOf(env.db, roomId, bo.id)).toBeNull();

    const joined = await join(token, bo);
    expect([joined.status, await joined.json()]).toEqual([200, { roomId, role: "editor" }]);
    expect(await roleOf(env.db, roomId, bo.id)).toBe("editor");
    expect((await join("no-such-token", bo)).status).toBe(404);
  });

  it("another site's POST to it is refused by the CSRF check before the route runs", () => {
    const res = proxy(
      new NextRequest("http://localhost:3000/api/invites/tok", {
        method: "POST",
        headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/json" },
      }),
    );
    expect(res.status).toBe(403);
  });
});

describe("links die with membership", () => {
  it("inviteGrant (pure): a link grants at most what its minter may hand out now", () => {
    expect(inviteGrant("owner", "editor")).toBe("editor");
    expect(inviteGrant("editor", "viewer")).toBe("viewer");
    expect(inviteGrant("editor", "editor")).toBeNull();
    expect(inviteGrant("viewer", "viewer")).toBeNull();
    expect(inviteGrant(null, "viewer")).toBeNull();
  });

  it("a removed editor cannot come back through the link they joined with, and the links they minted die", async () => {
    const { ann, roomId } = await room("Studio");
    const teamLink = await mint(roomId, ann, "editor");
    const ed = await createUser(env.db, "Ed");
    expect((await join(teamLink, ed)).status).toBe(200);
    const edsLink = await mint(roomId, ed, "viewer");
    const vi = await createUser(env.db, "Vi");
    expect((await join(edsLink, vi)).status).toBe(200);
    const ownersOther = await mint(roomId, ann, "viewer");

    expect(await remove(roomId, ann, ed)).toBe(204);
    const back = await join(teamLink, ed);
    expect([back.status, (await back.json()).error]).toEqual([404, expect.stringMatching(/not valid/)]);
    expect(await roleOf(env.db, roomId, ed.id)).toBeNull();
    const stranger = await createUser(env.db, "Stranger");
    expect((await join(edsLink, stranger)).status).toBe(404);
    expect(await roleOf(env.db, roomId, stranger.id)).toBeNull();
    expect(await summarizeInvite(env.db, edsLink)).toBeNull();
    // who joined through Ed's link stays; the owner's other links still work
    expect(await roleOf(env.db, roomId, vi.id)).toBe("viewer");
    expect((await join(ownersOther, stranger)).status).toBe(200);
    expect(
      (await env.db.roomInvite.findMany({ where: { roomId }, select: { token: true } })).map((i) => i.token),
    ).toEqual([ownersOther]);
  });

  it("a member who leaves is treated the same; an editor made viewer leaves no live links", async () => {
    const { ann, roomId } = await room("Atelier");
    const link = await mint(roomId, ann, "viewer");
    const cy = await createUser(env.db, "Cy");
    expect((await join(link, cy)).status).toBe(200);
    expect(await remove(roomId, cy, cy)).toBe(204); // leaving
    expect((await join(link, cy)).status).toBe(404);

    const ed = await createUser(env.db, "Ed");
    await env.db.roomMember.create({ data: { roomId, userId: ed.id, role: "editor" } });
    const edsLink = await mint(roomId, ed, "viewer");
    const { PATCH } = await import("@/app/api/rooms/[id]/members/[userId]/route");
    const demoted = await PATCH(
      jsonRequest(
        `/api/rooms/${roomId}/members/${ed.id}`,
        "PATCH",
        { role: "viewer" },
        { cookie: await sessionCookie(ann) },
      ),
      params({ id: roomId, userId: ed.id }),
    );
    expect(demoted.status).toBe(200);
    const late = await createUser(env.db, "Late");
    expect((await join(edsLink, late)).status).toBe(404);
    expect(await roleOf(env.db, roomId, late.id)).toBeNull();
  });

  it("a link whose minter lost the right to grant it lets nobody in, even if it was not deleted", async () => {
    const { ann, roomId } = await room("Legacy");
    const ed = await createUser(env.db, "Ed");
    await env.db.roomMember.create({ data: { roomId, userId: ed.id, role: "viewer" } });
    // a link minted when Ed was an editor, left in place (e.g. by an older version)
    await env.db.roomInvite.create({ data: { token: "legacy-token", roomId, role: "viewer", createdById: ed.id } });
    const zed = await createUser(env.db, "Zed");
    expect((await join("legacy-token", zed)).status).toBe(404);
    expect(await summarizeInvite(env.db, "legacy-token")).toBeNull();
    expect(await roleOf(env.db, roomId, zed.id)).toBeNull();
    expect(ann.id).not.toBe(ed.id);
  });
});
