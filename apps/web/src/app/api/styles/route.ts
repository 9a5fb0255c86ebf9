import { getDb } from "@atelier/db";
import { styleUploadFields } from "@atelier/protocol";
import { errorResponse, json, unauthorized } from "@/server/http";
import { styleLibrary, styleSelect, toStyleInfo } from "@/server/queries";
import { getSessionUser } from "@/server/session";
import { fileFrom, readMultipart, storeUpload, uploadLimits } from "@/server/uploads";

/** GET → { mine, public }: my styles and others' public ones. */
export async function GET(req: Request): Promise<Response> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  if (!user) return unauthorized();
  return json(await styleLibrary(db, user.id));
}

/** POST multipart { file, name, isPublic } → 201 { style } */
export async function POST(req: Request): Promise<Response> {
  const db = await getDb();
  const user = await getSessionUser(req.headers, db);
  if (!user) return unauthorized();
  const body = await readMultipart(req, uploadLimits().maxBytes);
  if (!body.ok) return body.response;
  const fields = styleUploadFields.safeParse({
    name: body.form.get("name") ?? "",
    isPublic: body.form.get("isPublic") ?? undefined,
  });
  if (!fields.success) {
    const issue = fields.error.issues[0]!;
    return errorResponse(400, issue.message, String(issue.path[0] ?? "name"));
  }
  const file = fileFrom(body.form);
  if (!file) return errorResponse(400, "choose an image to upload", "file");
  const stored = await storeUpload(db, file, user.id);
  if (!stored.ok) return stored.response;
  const style = await db.style.create({
    data: { name: fields.data.name, isPublic: fields.data.isPublic, imageId: stored.image.id, ownerId: user.id },
    select: styleSelect,
  });
  return json({ style: toStyleInfo(style, user.id) }, 201);
}
