import { errorResponse, json } from "@/server/http";
import { remixResult } from "@/server/rooms";
import { requireUser } from "@/server/session";

/** POST → 201 { room: { id, name } }: a new room of mine with the result's content, styles and settings. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const { id } = await ctx.params;
  const outcome = await remixResult(db, id, user.id);
  return outcome.ok ? json({ room: outcome.value }, 201) : errorResponse(outcome.status, outcome.error);
}
