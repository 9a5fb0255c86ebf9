import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import sharp from "sharp";
import { getDb } from "@atelier/db";
import { canViewImage, fileStoreOf, readImageBytes, readImageStream, thumbnail } from "@atelier/storage";
import { errorResponse } from "@/server/http";
import { getSessionUser } from "@/server/session";
import { webMetrics } from "@/server/metrics";

/*
 * GET /api/images/:id[?w=320][&format=png][&download=1]
 * Files are content-addressed (they never change), so every reply is cacheable for a year;
 * images anyone may see are `public`, the rest `private` (the browser's cache only) and only
 * served to those storage.canViewImage allows. Strangers get 404, not 403: a private image's
 * existence is not revealed. ETag: the sha256 (plus the variant).
 * The original and thumbnails are streamed from the file store (a shared directory or S3), never
 * held whole in memory.
 */
const YEAR = 31_536_000;

function damaged(): Response {
  return errorResponse(422, "the stored image file is damaged and cannot be served");
}

/**
 * The stored bytes passed through while their sha256 is computed: bytes that no longer hash to
 * the stored one end the stream with an error (the client gets a cut-off reply, never a complete
 * damaged image that it would cache for a year).
 */
function verified(stream: Readable, sha256: string, id: string): Readable {
  const hash = createHash("sha256");
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
    flush(done) {
      if (hash.digest("hex") === sha256) return done();
      console.error(`[atelier] image ${id}: the stored file no longer matches its sha256; reply cut off`);
      done(new Error("the stored image file is damaged"));
    },
  });
  stream.on("error", (error) => check.destroy(error));
  return stream.pipe(check);
}

function streamed(stream: Readable): BodyInit {
  return Readable.toWeb(stream) as ReadableStream<Uint8Array>;
}

export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const response = await serve(req, ctx);
  webMetrics().imageResponses.inc({ status: String(response.status) });
  return response;
}

async function serve(req: Request, ctx: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await ctx.params;
  const db = await getDb();
  const image = await db.image.findUnique({
    where: { id },
    select: { sha256: true, mime: true, width: true, height: true, bytes: true },
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

  try {
    if (width) {
      const thumb = await thumbnail(image, width);
      const stored = await fileStoreOf().readStream(thumb.key);
      if (!stored) return errorResponse(410, "the image file is missing from storage");
      headers["Content-Type"] = thumb.mime;
      headers["Content-Length"] = String(stored.size);
      return new Response(streamed(stored.stream), { status: 200, headers });
    }
    if (wantPng && image.mime !== "image/png") {
      const original = await readImageBytes(image);
      if (createHash("sha256").update(original).digest("hex") !== image.sha256) return damaged();
      const body = await sharp(original).rotate().png().toBuffer();
      headers["Content-Type"] = "image/png";
      headers["Content-Length"] = String(body.byteLength);
      return new Response(body as BodyInit, { status: 200, headers });
    }
    // the original as stored, streamed: a file of another size than the one stored → 422 before
    // anything is sent; the same size but other bytes → cut off (verified)
    const stored = await readImageStream(image);
    if (stored.size !== image.bytes) {
      stored.stream.destroy();
      return damaged();
    }
    headers["Content-Type"] = image.mime;
    headers["Content-Length"] = String(stored.size);
    return new Response(streamed(verified(stored.stream, image.sha256, id)), { status: 200, headers });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return errorResponse(410, "the image file is missing from storage");
    if (code === "EDAMAGED") return damaged();
    // intact bytes the image library cannot convert: say so rather than a 500
    console.error(`[atelier] image ${id} (${variant}) could not be converted: ${(error as Error).message}`);
    return errorResponse(422, "the stored image cannot be converted to this variant");
  }
}
