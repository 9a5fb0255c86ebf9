import { changeMemberBody } from "@atelier/protocol";
import { errorResponse, json, readJson } from "@/server/http";
import { notifyMembershipChange } from "@/server/membership-notify";
import { changeMemberRole, removeMember } from "@/server/rooms";
import { requireUser } from "@/server/session";

type Ctx = { params: Promise<{ id: string; userId: string }> };

/** PATCH { role: editor|viewer } → 200 { userId, role } (owner only); the member's open sockets follow. */
export async function PATCH(req: Request, ctx: Ctx): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const body = await readJson(req, changeMemberBody);
  if (!body.ok) return body.response;
  const { id, userId } = await ctx.params;
  const outcome = await changeMemberRole(auth.db, id, auth.user.id, userId, body.value.role);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  await notifyMembershipChange(id, userId);
  return json(outcome.value);
}

/** DELETE → 204 (the owner removes a member, or a member leaves); their open sockets leave the room. */
export async function DELETE(req: Request, ctx: Ctx): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { id, userId } = await ctx.params;
  const outcome = await removeMember(auth.db, id, auth.user.id, userId);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  await notifyMembershipChange(id, userId);
  return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
}
