import { signMembershipChange, signSessionEnded } from "@atelier/protocol/token";
import { optimizerInternalUrl, realtimeSecret } from "./config";

/**
 * Tells the optimisation service that a member's role changed or they were removed, so their
 * open sockets follow at once. Best effort: the service also re-reads the role on every action,
 * so a missed message only delays what the member's screen shows. Whether it was delivered.
 */
export async function notifyMembershipChange(roomId: string, userId: string): Promise<boolean> {
  try {
    const token = signMembershipChange({ roomId, userId }, realtimeSecret());
    const res = await fetch(`${optimizerInternalUrl()}/internal/membership`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) console.warn(`[atelier] the optimiser refused a membership change: HTTP ${res.status}`);
    return res.ok;
  } catch (error) {
    console.warn(`[atelier] could not tell the optimiser about a membership change: ${(error as Error).message}`);
    return false;
  }
}

/**
 * Tells the optimisation service that a user signed out (their session generation is now
 * `generation`), so it drops their sockets of older generations at once, on every gateway.
 * Best effort like the membership message: without it the old sockets last until their token's
 * expiry (10 minutes at most), and new tokens already carry the new generation. Whether it was delivered.
 */
export async function notifySessionEnded(userId: string, generation: number): Promise<boolean> {
  try {
    const token = signSessionEnded({ userId, generation }, realtimeSecret());
    const res = await fetch(`${optimizerInternalUrl()}/internal/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) console.warn(`[atelier] the optimiser refused a session end: HTTP ${res.status}`);
    return res.ok;
  } catch (error) {
    console.warn(`[atelier] could not tell the optimiser about a sign-out: ${(error as Error).message}`);
    return false;
  }
}
