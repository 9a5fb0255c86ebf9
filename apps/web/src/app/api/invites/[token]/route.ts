import { acceptInviteBody, type AcceptInviteResponse } from "@atelier/protocol";
import { errorResponse, json, readJson } from "@/server/http";
import { acceptInvite } from "@/server/rooms";
import { requireUser } from "@/server/session";

type Ctx = { params: Promise<{ token: string }> };

/**
 * POST {} → 200 { roomId, role }: joins the invite's room (the "Join" button of /invite/[token];
 * opening the page joins nothing). 404 dead link (revoked, its minter removed or no longer
 * allowed to grant it), 410 expired or used up; an existing member keeps their role.
 */
export async function POST(req: Request, ctx: Ctx): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const body = await readJson(req, acceptInviteBody);
  if (!body.ok) return body.response;
  const { token } = await ctx.params;
  const outcome = await acceptInvite(auth.db, token, auth.user.id);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  const reply: AcceptInviteResponse = outcome.value;
  return json(reply);
}
