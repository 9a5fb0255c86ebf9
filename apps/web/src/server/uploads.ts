import { storeImage, UploadError } from "@atelier/storage";
import { uploadLimits, uploadQuotas } from "./config";
import type { Db, Image } from "@atelier/db";
import type { ImageInfo } from "@atelier/protocol";
import { errorResponse } from "./http";
import { exceededLimit, minutesText, recordAttempt } from "./rate-limit";
import { requireUser, type SessionUser } from "./session";

const MULTIPART_OVERHEAD = 64 * 1024;

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Reads a multipart body without ever holding more than the cap (plus form overhead) in
 * memory: a declared or actual oversize body is refused as soon as it is known.
 */
async function readMultipart(
  req: Request,
  maxBytes: number,
): Promise<{ ok: true; form: FormData } | { ok: false; response: Response }> {
  const limit = maxBytes + MULTIPART_OVERHEAD;
  const tooBig = () => errorResponse(413, `The file is too large; the limit is ${megabytes(maxBytes)}.`, "file");
  const type = req.headers.get("content-type") ?? "";
  if (!type.startsWith("multipart/form-data"))
    return {
      ok: false,
      response: errorResponse(400, "send the image as multipart/form-data with a `file` field", "file"),
    };
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) return { ok: false, response: tooBig() };
  if (!req.body) return { ok: false, response: errorResponse(400, "choose an image to upload", "file") };
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return { ok: false, response: tooBig() };
    }
    chunks.push(value);
  }
  try {
    const form = await new Response(new Blob(chunks as BlobPart[]), { headers: { "content-type": type } }).formData();
    return { ok: true, form };
  } catch {
    return { ok: false, response: errorResponse(400, "the upload could not be read as a form", "file") };
  }
}

function fileFrom(form: FormData): File | null {
  const file = form.get("file");
  return file instanceof File && file.size > 0 ? file : null;
}

/**
 * The bytes of the images a user uploaded: their images that are not a run's or a result's
 * output (those are made by the service, not sent by the user).
 */
async function uploadedBytes(db: Db, userId: string): Promise<number> {
  const sum = await db.image.aggregate({
    where: { ownerId: userId, results: { none: {} }, runsEnded: { none: {} } },
    _sum: { bytes: true },
  });
  return sum._sum.bytes ?? 0;
}

/** Why one more upload of `incoming` bytes is over the account's total (pure), or null. */
export function uploadQuotaRefusal(used: number, incoming: number, quotaBytes: number): string | null {
  if (used < quotaBytes && used + incoming <= quotaBytes) return null;
  return (
    `your uploads take ${megabytes(used)} of the ${megabytes(quotaBytes)} an account may upload` +
    (incoming > 0 ? `; this file (${megabytes(incoming)}) does not fit` : "")
  );
}

/**
 * The per-account quotas, before the body is read: uploads per hour (429 with Retry-After) and
 * an account already at its byte total (413). The attempt is counted here.
 */
async function quotaRefusal(db: Db, userId: string, now = Date.now()): Promise<Response | null> {
  const quotas = uploadQuotas();
  const key = `upload-user:${userId}`;
  const over = await exceededLimit(db, [{ key, max: quotas.perHour, windowMs: 3600_000 }], now);
  if (over)
    return errorResponse(
      429,
      `you uploaded ${quotas.perHour} images in the last hour, the most an account may; try again in ${minutesText(over.retryAfterSeconds)}`,
      "file",
      { "Retry-After": String(over.retryAfterSeconds) },
    );
  const full = uploadQuotaRefusal(await uploadedBytes(db, userId), 0, quotas.totalBytes);
  if (full) return errorResponse(413, full, "file");
  await recordAttempt(db, [key], now);
  return null;
}

/** What every upload route starts with: a signed-in user within their quotas and the multipart form, read within the upload cap. */
export async function readUserUpload(
  req: Request,
): Promise<{ ok: true; db: Db; user: SessionUser; form: FormData } | { ok: false; response: Response }> {
  const auth = await requireUser(req);
  if (!auth.ok) return auth;
  const refused = await quotaRefusal(auth.db, auth.user.id);
  if (refused) return { ok: false, response: refused };
  const body = await readMultipart(req, uploadLimits().maxBytes);
  if (!body.ok) return body;
  return { ok: true, db: auth.db, user: auth.user, form: body.form };
}

const STATUS_OF: Record<UploadError["code"], number> = {
  unsupported_type: 415,
  too_many_bytes: 413,
  too_many_pixels: 413,
  corrupt: 400,
};

/**
 * Stores the form's `file` through storage (which checks the content, not the name); a missing
 * file and every refusal become clear 4xx replies.
 */
export async function storeUpload(
  db: Db,
  form: FormData,
  ownerId: string,
): Promise<{ ok: true; image: Image } | { ok: false; response: Response }> {
  const file = fileFrom(form);
  if (!file) return { ok: false, response: errorResponse(400, "choose an image to upload", "file") };
  const bytes = new Uint8Array(await file.arrayBuffer());
  const overQuota = uploadQuotaRefusal(await uploadedBytes(db, ownerId), bytes.byteLength, uploadQuotas().totalBytes);
  if (overQuota) return { ok: false, response: errorResponse(413, overQuota, "file") };
  try {
    const image = await storeImage(db, bytes, { ownerId, ...uploadLimits() });
    return { ok: true, image };
  } catch (error) {
    if (error instanceof UploadError)
      return { ok: false, response: errorResponse(STATUS_OF[error.code] ?? 400, error.message, "file") };
    throw error;
  }
}

export function imageInfo(image: Image): ImageInfo {
  return { id: image.id, width: image.width, height: image.height, mime: image.mime, bytes: image.bytes };
}
