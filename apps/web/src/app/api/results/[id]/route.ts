import { updateResultBody } from "@atelier/protocol";
import { errorResponse, json, readJson } from "@/server/http";
import { requireUser } from "@/server/session";

/** PATCH { title?, isPublic? } → { result } (the author only). */
export async function PATCH(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const body = await readJson(req, updateResultBody);
  if (!body.ok) return body.response;
  const { id } = await ctx.params;
  const result = await db.result.findUnique({ where: { id }, select: { authorId: true, isPublic: true } });
  if (!result || (result.authorId !== user.id && !result.isPublic)) return errorResponse(404, "result not found");
  if (result.authorId !== user.id) return errorResponse(403, "only the author can change a result");
  const updated = await db.result.update({
    where: { id },
    data: { title: body.value.title, isPublic: body.value.isPublic },
    select: { id: true, title: true, isPublic: true },
  });
  return json({ result: updated });
}
