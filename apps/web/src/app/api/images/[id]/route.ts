import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { getDb } from "@atelier/db";
import { canViewImage, readImageBytes, thumbnail } from "@atelier/storage";
import { errorResponse } from "@/server/http";
import { getSessionUser } from "@/server/session";

/*
 * GET /api/images/:id[?w=320][&format=png][&download=1]
 * Files are content-addressed (they never change), so every reply is cacheable for a year;
 * images anyone may see are `public`, the rest `private` (the browser's cache only) and only
 * served to those storage.canViewImage allows. Strangers get 404, not 403: a private image's
 * existence is not revealed. ETag: the sha256 (plus the variant).
 */
const YEAR = 31_536_000;

export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await ctx.params;
  const db = await getDb();
  const image = await db.image.findUnique({
    where: { id },
    select: { sha256: true, mime: true, width: true, height: true },
  });
  if (!image) return errorResponse(404, "image not found");
  const isPublic = await canViewImage(db, id, null);
  if (!isPublic) {
    const userId = (await getSessionUser(req.headers, db))?.id;
    if (!userId || !(await canViewImage(db, id, userId))) return errorResponse(404, "image not found");
  }

  const url = new URL(req.url);
  const widthParam = url.searchParams.get("w");
  const wantPng = url.searchParams.get("format") === "png";
  const download = url.searchParams.get("download") === "1";
  let width: number | null = null;
  if (widthParam !== null) {
    width = Number(widthParam);
    if (!Number.isInteger(width) || width < 1 || width > 4096)
      return errorResponse(400, "w must be a whole number of pixels between 1 and 4096");
  }

  const variant = width ? `w${width}` : wantPng ? "png" : "orig";
  const etag = `"${image.sha256}-${variant}"`;
  const headers: Record<string, string> = {
    "Cache-Control": `${isPublic ? "public" : "private"}, max-age=${YEAR}, immutable`,
    ETag: etag,
    "X-Content-Type-Options": "nosniff",
    // a private reply depends on who asks
    ...(isPublic ? {} : { Vary: "Cookie" }),
  };
  if (download)
    headers["Content-Disposition"] =
      `attachment; filename="atelier-${id}.${wantPng ? "png" : image.mime.split("/")[1]}"`;
  if (req.headers.get("if-none-match")?.split(/,\s*/).includes(etag))
    return new Response(null, { status: 304, headers });

  // the original first: missing → 410; bytes that no longer hash to the stored sha256 → 422
  let original: Buffer;
  try {
    original = await readImageBytes(image);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return errorResponse(410, "the image file is missing from storage");
    throw error;
  }
  if (createHash("sha256").update(original).digest("hex") !== image.sha256)
    return errorResponse(422, "the stored image file is damaged and cannot be served");

  let body: Uint8Array;
  let type: string;
  try {
    if (width) {
      const thumb = await thumbnail(image, width);
      body = await readFile(thumb.path);
      type = thumb.mime;
    } else if (wantPng && image.mime !== "image/png") {
      body = await sharp(original).rotate().png().toBuffer();
      type = "image/png";
    } else {
      body = original;
      type = image.mime;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return errorResponse(410, "the image file is missing from storage");
    // intact bytes the image library cannot convert: say so rather than a 500
    console.error(`[atelier] image ${id} (${variant}) could not be converted: ${(error as Error).message}`);
    return errorResponse(422, "the stored image cannot be converted to this variant");
  }
  headers["Content-Type"] = type;
  headers["Content-Length"] = String(body.byteLength);
  return new Response(body as BodyInit, { status: 200, headers });
}
