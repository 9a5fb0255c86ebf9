import { getDb } from "@atelier/db";
import { signUp } from "@/server/accounts";
import { clientIp, errorResponse, json, requireJsonBody } from "@/server/http";

/** POST { name, email, password } → 201 { user }; 400 invalid / weak password, 409 email taken, 429 too many attempts. */
export async function POST(req: Request): Promise<Response> {
  const unsupported = requireJsonBody(req);
  if (unsupported) return unsupported;
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return errorResponse(400, "the request body must be JSON");
  }
  const outcome = await signUp(await getDb(), body, clientIp(req.headers));
  if (outcome.ok) return json({ user: outcome.user }, 201);
  const headers: Record<string, string> = outcome.retryAfterSeconds
    ? { "Retry-After": String(outcome.retryAfterSeconds) }
    : {};
  return errorResponse(outcome.status, outcome.error, outcome.field, headers);
}
