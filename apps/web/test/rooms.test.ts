import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRoomDocument, roleOf, serializeRunParams } from "@atelier/db";
import { defaultRoomDocument } from "@atelier/protocol";
import { acceptInvite, inviteRefusal } from "@/server/rooms";
import { createUser, jsonRequest, params, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

let env: TestEnv;
beforeAll(async () => {
  env = await setupTestEnv();
});
afterAll(async () => env.cleanup());

async function makeResult(authorId: string, roomId: string, isPublic: boolean) {
  const db = env.db;
  const img = (sha: string) =>
    db.image.create({
      data: { sha256: sha.padEnd(64, "0"), mime: "image/png", width: 8, height: 8, bytes: 100, ownerId: authorId },
    });
  const [content, style, out] = [await img("a"), await img("b"), await img("c")];
  const params = {
    ...defaultRoomDocument(),
    contentImageId: content.id,
    styles: [{ imageId: style.id, weight: 2 }],
    size: 256,
    seed: 7,
  };
  const run = await db.run.create({
    data: { roomId, authorId, params: serializeRunParams(params), seed: 7, status: "completed", iterations: 10 },
  });
  const result = await db.result.create({
    data: {
      runId: run.id,
      imageId: out.id,
      authorId,
      title: "Tübingen at night",
      isPublic,
      provenance: "{}",
      contentImageId: content.id,
      styleImageIds: JSON.stringify([style.id]),
    },
  });
  return { result, params };
}

describe("rooms", () => {
  it("creates a room for the signed-in user with the default document (401 signed out)", async () => {
    const { POST } = await import("@/app/api/rooms/route");
    expect((await POST(jsonRequest("/api/rooms", "POST", { name: "x" }))).status).toBe(401);
    const ann = await createUser(env.db, "Ann");
    const cookie = await sessionCookie(ann);
    const bad = await POST(jsonRequest("/api/rooms", "POST", { name: "   " }, { cookie }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).field).toBe("name");
    const res = await POST(jsonRequest("/api/rooms", "POST", { name: " Night study " }, { cookie }));
    expect(res.status).toBe(201);
    const { room } = await res.json();
    expect(room.name).toBe("Night study");
    const stored = await env.db.room.findUniqueOrThrow({ where: { id: room.id } });
    expect(readRoomDocument(stored)).toEqual(defaultRoomDocument());
    expect(await roleOf(env.db, room.id, ann.id)).toBe("owner");
  });

  it("deletes only as owner, and never a room with saved results", async () => {
    const { POST } = await import("@/app/api/rooms/route");
    const { DELETE } = await import("@/app/api/rooms/[id]/route");
    const ann = await createUser(env.db, "Ann");
    const bob = await createUser(env.db, "Bob");
    const cookie = await sessionCookie(ann);
    const { room } = await (await POST(jsonRequest("/api/rooms", "POST", { name: "R" }, { cookie }))).json();
    expect((await DELETE(request(`/api/rooms/${room.id}`, { method: "DELETE" }), params({ id: room.id }))).status).toBe(
      401,
    );
    expect(
      (
        await DELETE(
          request(`/api/rooms/${room.id}`, { method: "DELETE", cookie: await sessionCookie(bob) }),
          params({ id: room.id }),
        )
      ).status,
    ).toBe(403);
    await makeResult(ann.id, room.id, false);
    const refused = await DELETE(
      request(`/api/rooms/${room.id}`, { method: "DELETE", cookie }),
      params({ id: room.id }),
    );
    expect(refused.status).toBe(409);
    expect((await refused.json()).error).toMatch(/1 saved result/);
    expect(await env.db.room.count({ where: { id: room.id } })).toBe(1);

    const { room: empty } = await (await POST(jsonRequest("/api/rooms", "POST", { name: "Empty" }, { cookie }))).json();
    expect(
      (await DELETE(request(`/api/rooms/${empty.id}`, { method: "DELETE", cookie }), params({ id: empty.id }))).status,
    ).toBe(204);
    expect(await env.db.room.count({ where: { id: empty.id } })).toBe(0);
  });
});

describe("invites", () => {
  it("owners and editors create links; opening one joins with its role and never downgrades", async () => {
    const { POST: createRoom } = await import("@/app/api/rooms/route");
    const { POST: invite } = await import("@/app/api/rooms/[id]/invites/route");
    const ann = await createUser(env.db, "Ann");
    const bob = await createUser(env.db, "Bob");
    const cy = await createUser(env.db, "Cy");
    const annCookie = await sessionCookie(ann);
    const { room } = await (
      await createRoom(jsonRequest("/api/rooms", "POST", { name: "Shared" }, { cookie: annCookie }))
    ).json();

    const bad = await invite(
      jsonRequest(`/api/rooms/${room.id}/invites`, "POST", { role: "owner" }, { cookie: annCookie }),
      params({ id: room.id }),
    );
    expect(bad.status).toBe(400);
    expect(
      (
        await invite(
          jsonRequest(
            `/api/rooms/${room.id}/invites`,
            "POST",
            { role: "viewer" },
            { cookie: await sessionCookie(bob) },
          ),
          params({ id: room.id }),
        )
      ).status,
    ).toBe(404);

    const res = await invite(
      jsonRequest(`/api/rooms/${room.id}/invites`, "POST", { role: "editor" }, { cookie: annCookie }),
      params({ id: room.id }),
    );
    expect(res.status).toBe(201);
    const link = await res.json();
    expect(link.url).toBe(`http://localhost:3000/invite/${link.token}`);
    expect(link.role).toBe("editor");
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThan(Date.now());

    expect(await acceptInvite(env.db, link.token, bob.id)).toEqual({
      ok: true,
      value: { roomId: room.id, role: "editor" },
    });
    expect(await roleOf(env.db, room.id, bob.id)).toBe("editor");

    // Bob (editor) makes a viewer link; opening it as Bob keeps him editor, Cy becomes viewer
    const viewerLink = await (
      await invite(
        jsonRequest(`/api/rooms/${room.id}/invites`, "POST", { role: "viewer" }, { cookie: await sessionCookie(bob) }),
        params({ id: room.id }),
      )
    ).json();
    expect((await acceptInvite(env.db, viewerLink.token, bob.id)).ok).toBe(true);
    expect(await roleOf(env.db, room.id, bob.id)).toBe("editor");
    expect(await acceptInvite(env.db, viewerLink.token, cy.id)).toEqual({
      ok: true,
      value: { roomId: room.id, role: "viewer" },
    });
    expect(await acceptInvite(env.db, viewerLink.token, ann.id)).toEqual({
      ok: true,
      value: { roomId: room.id, role: "owner" },
    });

    // viewers cannot invite
    expect(
      (
        await invite(
          jsonRequest(`/api/rooms/${room.id}/invites`, "POST", { role: "viewer" }, { cookie: await sessionCookie(cy) }),
          params({ id: room.id }),
        )
      ).status,
    ).toBe(403);
  });

  it("refuses unknown and expired links without changing anything", async () => {
    const ann = await createUser(env.db, "Ann");
    const dan = await createUser(env.db, "Dan");
    const room = await env.db.room.create({ data: { name: "Old", ownerId: ann.id, document: "{}" } });
    await env.db.roomInvite.create({
      data: {
        token: "expired-token",
        roomId: room.id,
        role: "editor",
        createdById: ann.id,
        expiresAt: new Date(Date.now() - 1000),
      },
    });
    const expired = await acceptInvite(env.db, "expired-token", dan.id);
    expect(expired).toMatchObject({ ok: false, status: 410 });
    expect(await acceptInvite(env.db, "no-such-token", dan.id)).toMatchObject({ ok: false, status: 404 });
    expect(await roleOf(env.db, room.id, dan.id)).toBeNull();
  });
});

/** A room with an owner (Ann), an editor (Ed) and a viewer (Vi). */
async function roomWithMembers(name = "Rules") {
  const ann = await createUser(env.db, "Ann");
  const ed = await createUser(env.db, "Ed");
  const vi = await createUser(env.db, "Vi");
  const room = await env.db.room.create({
    data: {
      name,
      ownerId: ann.id,
      document: "{}",
      members: {
        create: [
          { userId: ann.id, role: "owner" },
          { userId: ed.id, role: "editor" },
          { userId: vi.id, role: "viewer" },
        ],
      },
    },
  });
  return { ann, ed, vi, room };
}

describe("invite rules", () => {
  it("inviteRefusal (pure): owners any role, editors viewer links only, viewers none", () => {
    expect(inviteRefusal("owner", "editor")).toBeNull();
    expect(inviteRefusal("owner", "viewer")).toBeNull();
    expect(inviteRefusal("editor", "viewer")).toBeNull();
    expect(inviteRefusal("editor", "editor")).toMatch(/only the room's owner/);
    expect(inviteRefusal("viewer", "viewer")).toMatch(/viewers cannot/);
  });

  const post = async (roomId: string, body: unknown, cookie: string, headers: Record<string, string> = {}) => {
    const { POST } = await import("@/app/api/rooms/[id]/invites/route");
    const req = jsonRequest(`/api/rooms/${roomId}/invites`, "POST", body, { cookie });
    for (const [k, v] of Object.entries(headers)) req.headers.set(k, v);
    return POST(req, params({ id: roomId }));
  };

  it("an editor cannot mint editor links, nor anyone never-expiring or over-long ones", async () => {
    const { ann, ed, room } = await roomWithMembers();
    const edCookie = await sessionCookie(ed);
    expect((await post(room.id, { role: "editor" }, edCookie)).status).toBe(403);
    expect((await post(room.id, { role: "viewer" }, edCookie)).status).toBe(201);
    const annCookie = await sessionCookie(ann);
    for (const expiresInDays of [null, 31, 365, 0]) {
      const res = await post(room.id, { role: "viewer", expiresInDays }, annCookie);
      expect([expiresInDays, res.status]).toEqual([expiresInDays, 400]);
    }
    expect(await env.db.roomInvite.count({ where: { roomId: room.id } })).toBe(1);
  });

  it("opening a link never raises nor lowers a member's role", async () => {
    const { ann, ed, vi, room } = await roomWithMembers();
    const editorLink = await (await post(room.id, { role: "editor" }, await sessionCookie(ann))).json();
    const viewerLink = await (await post(room.id, { role: "viewer" }, await sessionCookie(ann))).json();
    expect(await acceptInvite(env.db, editorLink.token, vi.id)).toEqual({
      ok: true,
      value: { roomId: room.id, role: "viewer" },
    });
    expect(await roleOf(env.db, room.id, vi.id)).toBe("viewer");
    expect((await acceptInvite(env.db, viewerLink.token, ed.id)).ok).toBe(true);
    expect(await roleOf(env.db, room.id, ed.id)).toBe("editor");
    // members opening it did not use it up
    expect((await env.db.roomInvite.findUniqueOrThrow({ where: { token: editorLink.token } })).uses).toBe(0);
  });

  it("a single-use link lets exactly one person in, even when several race for it", async () => {
    const { ann, room } = await roomWithMembers();
    const link = await (await post(room.id, { role: "editor", maxUses: 1 }, await sessionCookie(ann))).json();
    expect(link.maxUses).toBe(1);
    const people = await Promise.all([1, 2, 3, 4, 5].map((i) => createUser(env.db, `Racer${i}`)));
    const outcomes = await Promise.all(people.map((p) => acceptInvite(env.db, link.token, p.id)));
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
    for (const o of outcomes.filter((x) => !x.ok)) expect(o).toMatchObject({ status: 410, error: /used up/ });
    const joined = people.filter((_, i) => outcomes[i]!.ok);
    expect(await env.db.roomMember.count({ where: { roomId: room.id, userId: { in: people.map((p) => p.id) } } })).toBe(
      1,
    );
    // the one who got in can open it again
    expect((await acceptInvite(env.db, link.token, joined[0]!.id)).ok).toBe(true);
  });

  it("the owner lists and revokes links; a revoked link stops working; others may not", async () => {
    const { GET } = await import("@/app/api/rooms/[id]/invites/route");
    const { DELETE } = await import("@/app/api/rooms/[id]/invites/[token]/route");
    const { ann, ed, room } = await roomWithMembers();
    const annCookie = await sessionCookie(ann);
    const a = await (await post(room.id, { role: "editor", expiresInDays: 2 }, annCookie)).json();
    const b = await (await post(room.id, { role: "viewer" }, await sessionCookie(ed))).json();
    const listed = await GET(request(`/api/rooms/${room.id}/invites`, { cookie: annCookie }), params({ id: room.id }));
    expect(listed.status).toBe(200);
    const { invites } = await listed.json();
    expect(invites.map((i: { token: string }) => i.token).sort()).toEqual([a.token, b.token].sort());
    expect(invites.find((i: { token: string }) => i.token === b.token)).toMatchObject({
      role: "viewer",
      createdBy: { userId: ed.id, name: "Ed" },
      uses: 0,
      maxUses: null,
    });
    const edCookie = await sessionCookie(ed);
    expect(
      (await GET(request(`/api/rooms/${room.id}/invites`, { cookie: edCookie }), params({ id: room.id }))).status,
    ).toBe(403);
    const del = (token: string, cookie: string) =>
      DELETE(
        request(`/api/rooms/${room.id}/invites/${token}`, { method: "DELETE", cookie }),
        params({ id: room.id, token }),
      );
    expect((await del(a.token, edCookie)).status).toBe(403);
    expect((await del(a.token, annCookie)).status).toBe(204);
    expect((await del(a.token, annCookie)).status).toBe(404);
    const dan = await createUser(env.db, "Dan");
    expect(await acceptInvite(env.db, a.token, dan.id)).toMatchObject({ ok: false, status: 404 });
    expect(await roleOf(env.db, room.id, dan.id)).toBeNull();
  });

  it("invite URLs use the configured origin, never X-Forwarded-Host", async () => {
    const { ann, room } = await roomWithMembers();
    const cookie = await sessionCookie(ann);
    const forged = await (
      await post(room.id, { role: "viewer" }, cookie, { "x-forwarded-host": "evil.example" })
    ).json();
    expect(new URL(forged.url).origin).toBe("http://localhost:3000");
    process.env.ATELIER_PUBLIC_URL = "https://atelier.example/";
    try {
      const configured = await (await post(room.id, { role: "viewer" }, cookie, { host: "evil.example" })).json();
      expect(configured.url).toBe(`https://atelier.example/invite/${configured.token}`);
    } finally {
      delete process.env.ATELIER_PUBLIC_URL;
    }
  });
});

describe("members", () => {
  it("the owner changes and removes members; members may leave; nobody else changes anyone; the owner stays", async () => {
    const { PATCH, DELETE } = await import("@/app/api/rooms/[id]/members/[userId]/route");
    const { ann, ed, vi, room } = await roomWithMembers("Members");
    const annC = await sessionCookie(ann);
    const edC = await sessionCookie(ed);
    const viC = await sessionCookie(vi);
    const patch = (userId: string, role: unknown, cookie: string) =>
      PATCH(
        jsonRequest(`/api/rooms/${room.id}/members/${userId}`, "PATCH", { role }, { cookie }),
        params({ id: room.id, userId }),
      );
    const del = (userId: string, cookie: string) =>
      DELETE(
        request(`/api/rooms/${room.id}/members/${userId}`, { method: "DELETE", cookie }),
        params({ id: room.id, userId }),
      );

    // an editor cannot promote a viewer nor themselves; bad roles change nothing
    expect((await patch(vi.id, "editor", edC)).status).toBe(403);
    expect((await patch(ed.id, "editor", edC)).status).toBe(403);
    expect((await patch(vi.id, "owner", annC)).status).toBe(400);
    expect((await patch(ann.id, "viewer", annC)).status).toBe(409);
    expect(await roleOf(env.db, room.id, vi.id)).toBe("viewer");

    // the owner demotes the editor (the optimiser is unreachable here: the change still holds)
    const demoted = await patch(ed.id, "viewer", annC);
    expect(demoted.status).toBe(200);
    expect(await demoted.json()).toEqual({ userId: ed.id, role: "viewer" });
    expect(await roleOf(env.db, room.id, ed.id)).toBe("viewer");

    expect((await del(ed.id, viC)).status).toBe(403); // a member cannot remove another
    expect((await del(ann.id, annC)).status).toBe(409); // the owner stays
    expect((await del(vi.id, viC)).status).toBe(204); // leaving
    expect((await del(ed.id, annC)).status).toBe(204);
    expect((await del(ed.id, annC)).status).toBe(404);
    expect(await roleOf(env.db, room.id, ed.id)).toBeNull();
    expect(await roleOf(env.db, room.id, vi.id)).toBeNull();
    expect(await roleOf(env.db, room.id, ann.id)).toBe("owner");
  });
});

describe("likes", () => {
  it("are idempotent and keep likeCount equal to the number of likes", async () => {
    const { PUT, DELETE } = await import("@/app/api/results/[id]/like/route");
    const ann = await createUser(env.db, "Ann");
    const room = await env.db.room.create({ data: { name: "L", ownerId: ann.id, document: "{}" } });
    const { result } = await makeResult(ann.id, room.id, true);
    const p = params({ id: result.id });
    const like = async (u: { id: string; name: string; email: string }, method: "PUT" | "DELETE") =>
      (method === "PUT" ? PUT : DELETE)(
        request(`/api/results/${result.id}/like`, { method, cookie: await sessionCookie(u) }),
        p,
      );

    expect((await PUT(request(`/api/results/${result.id}/like`, { method: "PUT" }), p)).status).toBe(401);
    const users = [await createUser(env.db, "U1"), await createUser(env.db, "U2"), await createUser(env.db, "U3")];
    expect(await (await like(users[0]!, "PUT")).json()).toEqual({ liked: true, likeCount: 1 });
    expect(await (await like(users[0]!, "PUT")).json()).toEqual({ liked: true, likeCount: 1 }); // again: no change
    // concurrent likes of different users and a duplicate
    const replies = await Promise.all([like(users[1]!, "PUT"), like(users[2]!, "PUT"), like(users[2]!, "PUT")]);
    expect(replies.every((r) => r.status === 200)).toBe(true);
    let stored = await env.db.result.findUniqueOrThrow({ where: { id: result.id } });
    expect(stored.likeCount).toBe(3);
    expect(await env.db.like.count({ where: { resultId: result.id } })).toBe(3);

    expect(await (await like(users[0]!, "DELETE")).json()).toEqual({ liked: false, likeCount: 2 });
    expect(await (await like(users[0]!, "DELETE")).json()).toEqual({ liked: false, likeCount: 2 });
    stored = await env.db.result.findUniqueOrThrow({ where: { id: result.id } });
    expect(stored.likeCount).toBe(await env.db.like.count({ where: { resultId: result.id } }));
  });

  it("cannot like someone else's private result", async () => {
    const { PUT } = await import("@/app/api/results/[id]/like/route");
    const ann = await createUser(env.db, "Ann");
    const eve = await createUser(env.db, "Eve");
    const room = await env.db.room.create({ data: { name: "P", ownerId: ann.id, document: "{}" } });
    const { result } = await makeResult(ann.id, room.id, false);
    const res = await PUT(
      request(`/api/results/${result.id}/like`, { method: "PUT", cookie: await sessionCookie(eve) }),
      params({ id: result.id }),
    );
    expect(res.status).toBe(404);
    expect(await env.db.like.count({ where: { resultId: result.id } })).toBe(0);
  });
});

describe("remix", () => {
  it("creates a room of mine with the same content, styles and settings", async () => {
    const { POST } = await import("@/app/api/results/[id]/remix/route");
    const ann = await createUser(env.db, "Ann");
    const bob = await createUser(env.db, "Bob");
    const room = await env.db.room.create({ data: { name: "Orig", ownerId: ann.id, document: "{}" } });
    const { result, params: runParams } = await makeResult(ann.id, room.id, true);
    const res = await POST(
      request(`/api/results/${result.id}/remix`, { method: "POST", cookie: await sessionCookie(bob) }),
      params({ id: result.id }),
    );
    expect(res.status).toBe(201);
    const { room: remix } = await res.json();
    expect(remix.name).toBe("Remix of Tübingen at night");
    const stored = await env.db.room.findUniqueOrThrow({ where: { id: remix.id } });
    expect(stored.ownerId).toBe(bob.id);
    expect(readRoomDocument(stored)).toEqual(runParams);

    const { result: hidden } = await makeResult(ann.id, room.id, false);
    const refused = await POST(
      request(`/api/results/${hidden.id}/remix`, { method: "POST", cookie: await sessionCookie(bob) }),
      params({ id: hidden.id }),
    );
    expect(refused.status).toBe(404);
    expect(
      (await POST(request(`/api/results/${result.id}/remix`, { method: "POST" }), params({ id: result.id }))).status,
    ).toBe(401);
  });
});
