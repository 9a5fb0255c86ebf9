import { createInviteBody, type CreateInviteResponse } from "@atelier/protocol";
import { errorResponse, json, readJson, requestOrigin } from "@/server/http";
import { createInvite } from "@/server/rooms";
import { requireUser } from "@/server/session";

/** POST { role, expiresInDays? } → 201 { token, url, role, expiresAt } (owners and editors). */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const body = await readJson(req, createInviteBody);
  if (!body.ok) return body.response;
  const { id } = await ctx.params;
  const outcome = await createInvite(db, id, user.id, body.value.role, body.value.expiresInDays);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  const reply: CreateInviteResponse = {
    token: outcome.value.token,
    url: `${requestOrigin(req)}/invite/${outcome.value.token}`,
    role: outcome.value.role,
    expiresAt: outcome.value.expiresAt?.toISOString() ?? null,
  };
  return json(reply, 201);
}
