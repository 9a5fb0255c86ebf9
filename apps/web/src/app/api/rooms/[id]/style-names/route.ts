import type { RoomStyleNamesResponse } from "@atelier/protocol";
import { errorResponse, json } from "@/server/http";
import { requireUser } from "@/server/session";
import { roomStyleNames } from "@/server/style-names";

/** GET → 200 { names: { [imageId]: title } } for members; 404 otherwise (no existence oracle). */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { id } = await ctx.params;
  const outcome = await roomStyleNames(auth.db, id, auth.user.id);
  if (!outcome.ok) return errorResponse(404, "No such room.");
  const reply: RoomStyleNamesResponse = { names: outcome.names };
  return json(reply);
}
