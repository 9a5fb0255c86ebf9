import { errorResponse, json } from "@/server/http";
import { setLike } from "@/server/results";
import { requireUser } from "@/server/session";

async function handle(req: Request, ctx: { params: Promise<{ id: string }> }, liked: boolean): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const { id } = await ctx.params;
  const outcome = await setLike(db, id, user.id, liked);
  return outcome.ok ? json(outcome.value) : errorResponse(outcome.status, outcome.error);
}

/** PUT → { liked: true, likeCount } (idempotent) */
export const PUT = (req: Request, ctx: { params: Promise<{ id: string }> }) => handle(req, ctx, true);
/** DELETE → { liked: false, likeCount } (idempotent) */
export const DELETE = (req: Request, ctx: { params: Promise<{ id: string }> }) => handle(req, ctx, false);
