/**
 * A user signed out (the web app's signed `POST /internal/session`, after bumping their
 * User.sessionGeneration): every socket of theirs whose token is of an older generation is
 * told and dropped at once — on this node, and through the cluster channel on every other
 * gateway — instead of living on until its token expires (up to 10 minutes).
 */
import { formatZodError, interNodeEventSchemas } from "@atelier/protocol";
import type { GatewayContext } from "./context.ts";
import { endSocketSession } from "./session-check.ts";

const SIGNED_OUT = "you signed out: sign in again";

/** Ends this node's sockets of `userId` older than `generation`; returns how many. */
export function endSessionsBefore(ctx: Pick<GatewayContext, "io" | "log">, userId: string, generation: number): number {
  let ended = 0;
  for (const socket of ctx.io.of("/").sockets.values()) {
    if (socket.data.user?.id !== userId || socket.data.generation >= generation) continue;
    ended++;
    endSocketSession(socket, SIGNED_OUT);
  }
  ctx.log.info("session.signed_out", { userId, generation, sockets: ended });
  return ended;
}

/** Applies sign-outs here and on every other node; returns the function the HTTP handler calls (sockets ended here). */
export function followSessionEndsEverywhere(
  ctx: Pick<GatewayContext, "io" | "log" | "cluster">,
): (userId: string, generation: number) => number {
  const { cluster, io, log } = ctx;
  if (cluster) {
    io.on("atelier:session", (p) => {
      const parsed = interNodeEventSchemas["atelier:session"].safeParse(p);
      if (!parsed.success) {
        log.warn("cluster.invalid_message", { event: "atelier:session", error: formatZodError(parsed.error) });
        return;
      }
      endSessionsBefore(ctx, parsed.data.userId, parsed.data.generation);
    });
  }
  return (userId, generation) => {
    cluster?.emit("atelier:session", { userId, generation });
    return endSessionsBefore(ctx, userId, generation);
  };
}
