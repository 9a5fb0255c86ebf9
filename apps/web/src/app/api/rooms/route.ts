import { createRoomBody } from "@atelier/protocol";
import { json, readJson } from "@/server/http";
import { createRoom } from "@/server/rooms";
import { requireUser } from "@/server/session";

/** POST { name } → 201 { room: { id, name } } */
export async function POST(req: Request): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const body = await readJson(req, createRoomBody);
  if (!body.ok) return body.response;
  const room = await createRoom(db, user.id, body.value.name);
  return json({ room }, 201);
}
