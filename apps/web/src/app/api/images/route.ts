import { json } from "@/server/http";
import { imageInfo, readUserUpload, storeUpload } from "@/server/uploads";

/** POST multipart { file } → 201 { image } — a content photo (JPEG/PNG/WebP, checked by content). */
export async function POST(req: Request): Promise<Response> {
  const upload = await readUserUpload(req);
  if (!upload.ok) return upload.response;
  const stored = await storeUpload(upload.db, upload.form, upload.user.id);
  if (!stored.ok) return stored.response;
  return json({ image: imageInfo(stored.image) }, 201);
}
