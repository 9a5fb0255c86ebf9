import type { ApiError } from "@atelier/protocol";
import { formatZodError } from "@atelier/protocol";
import type { z } from "zod";
import { clientAddress, PEER_HEADER } from "./client-address";
import { trustedProxies } from "./config";
import { peerAddressHeaderInstalled } from "./peer-address";

/** A JSON error reply: `{ error, field? }` with a 4xx/5xx status. */
export function errorResponse(status: number, error: string, field?: string, headers?: HeadersInit): Response {
  const body: ApiError = field ? { error, field } : { error };
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

export const unauthorized = () => errorResponse(401, "sign in first");

export function json<T>(body: T, status = 200): Response {
  return Response.json(body, { status, headers: { "Cache-Control": "no-store" } });
}

/**
 * A 415 reply unless the body is declared JSON (a cross-site form can only send text/plain,
 * urlencoded or multipart without a preflight); null when it is.
 */
export function requireJsonBody(req: Request): Response | null {
  const type = req.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") return null;
  return errorResponse(415, "send the body as JSON (Content-Type: application/json)");
}

/** Reads and validates a JSON body; an error Response when it is missing or invalid. */
export async function readJson<S extends z.ZodType>(
  req: Request,
  schema: S,
): Promise<{ ok: true; value: z.output<S> } | { ok: false; response: Response }> {
  const unsupported = requireJsonBody(req);
  if (unsupported) return { ok: false, response: unsupported };
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

/**
 * The client's address for per-address limits: the TCP peer, or what trusted proxies
 * (ATELIER_TRUSTED_PROXIES) forwarded. "unknown" when the peer address is not available.
 */
export function clientIp(headers: Headers): string {
  const peer = peerAddressHeaderInstalled() ? headers.get(PEER_HEADER) : null;
  return clientAddress(headers.get("x-forwarded-for"), peer, trustedProxies());
}
