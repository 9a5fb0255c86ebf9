import type { ApiError } from "@atelier/protocol";
import { formatZodError } from "@atelier/protocol";
import type { z } from "zod";

/** A JSON error reply: `{ error, field? }` with a 4xx/5xx status. */
export function errorResponse(status: number, error: string, field?: string, headers?: HeadersInit): Response {
  const body: ApiError = field ? { error, field } : { error };
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export const unauthorized = () => errorResponse(401, "sign in first");

export function json<T>(body: T, status = 200): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store" } });
}

/** Reads and validates a JSON body; an error Response when it is missing or invalid. */
export async function readJson<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<{ ok: true; value: z.output<S> } | { ok: false; response: Response }> {
  let raw: unknown;
  try {
    raw = await req.json();
  } catch {
    return { ok: false, response: errorResponse(400, "the request body must be JSON") };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first && first.path.length ? String(first.path[0]) : undefined;
    return { ok: false, response: errorResponse(400, first ? first.message : formatZodError(parsed.error), field) };
  }
  return { ok: true, value: parsed.data };
}

/** The client's address as the proxy in front of us reports it ("unknown" without one). */
export function clientIp(headers: Headers): string {
  const forwarded = headers.get("x-forwarded-for")?.split(",")[0]?.trim();
  return forwarded || headers.get("x-real-ip")?.trim() || "unknown";
}

/** The public origin of this request (behind a proxy: its forwarded host and protocol). */
export function requestOrigin(req: Request): string {
  const url = new URL(req.url);
  const host = req.headers.get("x-forwarded-host") ?? req.headers.get("host") ?? url.host;
  const proto = req.headers.get("x-forwarded-proto")?.split(",")[0]?.trim() ?? url.protocol.replace(":", "");
  return `${proto}://${host}`;
}
