import { errorResponse } from "@/server/http";
import { deleteRoom } from "@/server/rooms";
import { requireUser } from "@/server/session";

/** DELETE → 204 (owner only; refused while results saved from the room exist). */
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const { id } = await ctx.params;
  const outcome = await deleteRoom(db, id, user.id);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  return new Response(null, { status: 204 });
}
