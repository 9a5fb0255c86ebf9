import { styleUploadFields } from "@atelier/protocol";
import { errorResponse, json } from "@/server/http";
import { styleLibrary, styleSelect, toStyleInfo } from "@/server/queries";
import { requireUser } from "@/server/session";
import { readUserUpload, storeUpload } from "@/server/uploads";

/** GET → { mine, public }: my styles and others' public ones. */
export async function GET(req: Request): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  return json(await styleLibrary(db, user.id));
}

/** POST multipart { file, name, isPublic } → 201 { style } */
export async function POST(req: Request): Promise<Response> {
  const upload = await readUserUpload(req);
  if (!upload.ok) return upload.response;
  const { db, user, form } = upload;
  const fields = styleUploadFields.safeParse({
    name: form.get("name") ?? "",
    isPublic: form.get("isPublic") ?? undefined,
  });
  if (!fields.success) {
    const issue = fields.error.issues[0]!;
    return errorResponse(400, issue.message, String(issue.path[0] ?? "name"));
  }
  const stored = await storeUpload(db, form, user.id);
  if (!stored.ok) return stored.response;
  const style = await db.style.create({
    data: { name: fields.data.name, isPublic: fields.data.isPublic, imageId: stored.image.id, ownerId: user.id },
    select: styleSelect,
  });
  return json({ style: toStyleInfo(style, user.id) }, 201);
}
