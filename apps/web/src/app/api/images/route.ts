import { errorResponse, json } from "@/server/http";
import { requireUser } from "@/server/session";
import { uploadLimits } from "@/server/config";
import { fileFrom, imageInfo, readMultipart, storeUpload } from "@/server/uploads";

/** POST multipart { file } → 201 { image } — a content photo (JPEG/PNG/WebP, checked by content). */
export async function POST(req: Request): Promise<Response> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth.response;
  const { db, user } = auth;
  const body = await readMultipart(req, uploadLimits().maxBytes);
  if (!body.ok) return body.response;
  const file = fileFrom(body.form);
  if (!file) return errorResponse(400, "choose an image to upload", "file");
  const stored = await storeUpload(db, file, user.id);
  if (!stored.ok) return stored.response;
  return json({ image: imageInfo(stored.image) }, 201);
}
