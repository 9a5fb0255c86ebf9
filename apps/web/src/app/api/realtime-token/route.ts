import { signRealtimeToken, DEFAULT_TOKEN_TTL_SECONDS } from "@atelier/protocol/token";
import { getDb } from "@atelier/db";
import type { RealtimeTokenResponse } from "@atelier/protocol";
import { optimizerUrlFor, realtimeSecret } from "@/server/config";
import { errorResponse, json, unauthorized } from "@/server/http";
import { currentSessionGeneration, getSessionUser } from "@/server/session";

/** GET → { token, url, expiresAt } for the signed-in user: the optimisation service's handshake credential. */
export async function GET(req: Request): Promise<Response> {
  const user = await getSessionUser(req.headers);
  if (!user) return unauthorized();
  let secret: string;
  try {
    secret = realtimeSecret();
  } catch (error) {
    console.error(`[atelier] ${(error as Error).message}`);
    return errorResponse(503, "live rooms are not configured on this server (ATELIER_REALTIME_SECRET is missing)");
  }
  const now = Date.now();
  // the token carries the session generation: a sign-out bumps it and the optimiser drops older sockets
  const generation = await currentSessionGeneration(await getDb(), user.id);
  if (generation === null) return unauthorized();
  const token = signRealtimeToken({ id: user.id, name: user.name, generation }, secret, DEFAULT_TOKEN_TTL_SECONDS, now);
  const body: RealtimeTokenResponse = {
    token,
    url: optimizerUrlFor(req),
    expiresAt: Math.floor(now / 1000) + DEFAULT_TOKEN_TTL_SECONDS,
  };
  return json(body);
}
