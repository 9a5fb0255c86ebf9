import { updateStyleBody } from "@atelier/protocol";
import { errorResponse, json, readJson } from "@/server/http";
import { styleSelect, toStyleInfo } from "@/server/queries";
import { requireUser } from "@/server/session";

type Ctx = { params: Promise<{ id: string }> };

async function ownStyle(req: Request, ctx: Ctx) {
  const auth = await requireUser(req);
  if (!auth.ok) return auth;
  const { db, user } = auth;
  const { id } = await ctx.params;
  const style = await db.style.findUnique({ where: { id }, select: { ownerId: true, isPublic: true } });
  if (!style || (style.ownerId !== user.id && !style.isPublic))
    return { ok: false as const, response: errorResponse(404, "style not found") };
  if (style.ownerId !== user.id)
    return { ok: false as const, response: errorResponse(403, "only its owner can change a style") };
  return { ok: true as const, db, user, id };
}

/** PATCH { name?, isPublic? } → { style } */
export async function PATCH(req: Request, ctx: Ctx): Promise<Response> {
  const own = await ownStyle(req, ctx);
  if (!own.ok) return own.response;
  const body = await readJson(req, updateStyleBody);
  if (!body.ok) return body.response;
  const style = await own.db.style.update({ where: { id: own.id }, data: body.value, select: styleSelect });
  return json({ style: toStyleInfo(style, own.user.id) });
}

/**
 * DELETE → 204. Removes the style from the library only: its image stays, because rooms and
 * saved results that used it still show it.
 */
export async function DELETE(req: Request, ctx: Ctx): Promise<Response> {
  const own = await ownStyle(req, ctx);
  if (!own.ok) return own.response;
  await own.db.style.delete({ where: { id: own.id } });
  return new Response(null, { status: 204 });
}
