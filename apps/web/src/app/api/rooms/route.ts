import { getDb } from "@atelier/db";
import { createRoomBody } from "@atelier/protocol";
import { json, readJson, unauthorized } from "@/server/http";
import { createRoom } from "@/server/rooms";
import { getSessionUser } from "@/server/session";

/** POST { name } → 201 { room: { id, name } } */
export async function POST(req: Request): Promise<Response> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  if (!user) return unauthorized();
  const body = await readJson(req, createRoomBody);
  if (!body.ok) return body.response;
  const room = await createRoom(db, user.id, body.value.name);
  return json({ room }, 201);
}
