import { createInviteBody, type CreateInviteResponse, type ListInvitesResponse } from "@atelier/protocol";
import { publicOrigin } from "@/server/config";
import { errorResponse, json, readJson } from "@/server/http";
import { createInvite, listInvites } from "@/server/rooms";
import { requireUser } from "@/server/session";

/**
 * POST { role, expiresInDays?, maxUses? } → 201 { token, url, role, expiresAt, maxUses }:
 * owners any role, editors viewer links only; at most 30 days.
 */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const body = await readJson(req, createInviteBody);
  if (!body.ok) return body.response;
  const { id } = await ctx.params;
  const outcome = await createInvite(db, id, user.id, body.value);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  const reply: CreateInviteResponse = {
    token: outcome.value.token,
    // from the configured origin, never from request headers a client controls
    url: `${publicOrigin(req)}/invite/${outcome.value.token}`,
    role: outcome.value.role,
    expiresAt: outcome.value.expiresAt.toISOString(),
    maxUses: outcome.value.maxUses,
  };
  return json(reply, 201);
}

/** GET → { invites } that still work (owner only). */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { id } = await ctx.params;
  const outcome = await listInvites(auth.db, id, auth.user.id);
  if (!outcome.ok) return errorResponse(outcome.status, outcome.error);
  const reply: ListInvitesResponse = { invites: outcome.value };
  return json(reply);
}
