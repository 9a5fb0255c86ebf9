import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeRoomDocument } from "@atelier/db";
import { defaultRoomDocument, roomStyleNamesResponse } from "@atelier/protocol";
import { GET } from "@/app/api/rooms/[id]/style-names/route";
import { createUser, params, request, sessionCookie, setupTestEnv, type TestEnv } from "./helpers";

describe("GET /api/rooms/:id/style-names", () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await setupTestEnv();
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it("names a collaborator's private style for every member, and nothing for outsiders", async () => {
    const [ann, bob, eve] = [
      await createUser(env.db, "Ann"),
      await createUser(env.db, "Bob"),
      await createUser(env.db, "Eve"),
    ];
    const image = await env.db.image.create({
      data: { sha256: "a".repeat(64), mime: "image/png", width: 4, height: 3, bytes: 10, ownerId: ann.id },
    });
    const unused = await env.db.image.create({
      data: { sha256: "b".repeat(64), mime: "image/png", width: 4, height: 3, bytes: 10, ownerId: ann.id },
    });
    await env.db.style.create({
      data: { name: "Ann's secret sky", imageId: image.id, ownerId: ann.id, isPublic: false },
    });
    await env.db.style.create({ data: { name: "Not in the room", imageId: unused.id, ownerId: ann.id } });
    const room = await env.db.room.create({
      data: {
        name: "Shared",
        ownerId: ann.id,
        document: serializeRoomDocument({ ...defaultRoomDocument(), styles: [{ imageId: image.id, weight: 1 }] }),
        members: {
          create: [
            { userId: ann.id, role: "owner" },
            { userId: bob.id, role: "viewer" },
          ],
        },
      },
    });

    const asBob = await GET(
      request(`/api/rooms/${room.id}/style-names`, { cookie: await sessionCookie(bob) }),
      params({ id: room.id }),
    );
    expect(asBob.status).toBe(200);
    expect(roomStyleNamesResponse.parse(await asBob.json())).toEqual({ names: { [image.id]: "Ann's secret sky" } });

    const asEve = await GET(
      request(`/api/rooms/${room.id}/style-names`, { cookie: await sessionCookie(eve) }),
      params({ id: room.id }),
    );
    expect(asEve.status).toBe(404);
    const signedOut = await GET(request(`/api/rooms/${room.id}/style-names`), params({ id: room.id }));
    expect(signedOut.status).toBe(401);
  });
});
