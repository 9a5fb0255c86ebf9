import { getDb } from "@atelier/db";
import { errorResponse, unauthorized } from "@/server/http";
import { deleteRoom } from "@/server/rooms";
import { getSessionUser } from "@/server/session";

/** DELETE → 204 (owner only; refused while results saved from the room exist). */
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  if (!user) return unauthorized();
  const { id } = await ctx.params;
  const outcome = await deleteRoom(db, id, user.id);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  return new Response(null, { status: 204 });
}
