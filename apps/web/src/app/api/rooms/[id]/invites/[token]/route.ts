import { errorResponse } from "@/server/http";
import { revokeInvite } from "@/server/rooms";
import { requireUser } from "@/server/session";

/** DELETE → 204: the link stops working at once (owner only). */
export async function DELETE(req: Request, ctx: { params: Promise<{ id: string; token: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { id, token } = await ctx.params;
  const outcome = await revokeInvite(auth.db, id, token, auth.user.id);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
