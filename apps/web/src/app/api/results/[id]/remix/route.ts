import { getDb } from "@atelier/db";
import { errorResponse, json, unauthorized } from "@/server/http";
import { remixResult } from "@/server/rooms";
import { getSessionUser } from "@/server/session";

/** POST → 201 { room: { id, name } }: a new room of mine with the result's content, styles and settings. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  if (!user) return unauthorized();
  const { id } = await ctx.params;
  const outcome = await remixResult(db, id, user.id);
  return outcome.ok ? json({ room: outcome.value }, 201) : errorResponse(outcome.status, outcome.error);
}
