/**
 * Cluster mode (REDIS_URL): the Socket.IO Redis adapter, so room broadcasts reach the
 * clients of every node, plus a small typed channel for what nodes tell each other
 * (document edits, run state, previews, cancel requests).
 */
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { Logger } from "./log.ts";
import type { AtelierServer, InterServerEvents } from "./gateway-context.ts";

export interface ClusterLink {
  /** Sends a message to every other node. */
  emit<E extends Exclude<keyof InterServerEvents, "atelier:cancel">>(
    event: E,
    payload: Parameters<InterServerEvents[E]>[0],
  ): void;
  /** Asks the other nodes to cancel the room's run; true when one of them did. */
  requestCancel(roomId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** how long a node waits for the others to answer (a cancel waits for the worker to stop) */
const REQUEST_TIMEOUT_MS = 20_000;

export async function connectRedisAdapter(io: AtelierServer, url: string, log: Logger): Promise<ClusterLink> {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  for (const [name, client] of [
    ["pub", pub],
    ["sub", sub],
  ] as const) {
    client.on("error", (error: unknown) => log.error("cluster.redis_error", { client: name, error }));
  }
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: "atelier", requestsTimeout: REQUEST_TIMEOUT_MS }));
  log.info("cluster.connected", { redis: url.replace(/\/\/[^@]*@/, "//***@") });
  return {
    emit(event, payload) {
      // socket.io's emit typing cannot follow a generic event name; the signature above keeps callers typed
      (io.serverSideEmit as (event: string, payload: unknown) => boolean)(event, payload);
    },
    async requestCancel(roomId) {
      try {
        const answers = await io.serverSideEmitWithAck("atelier:cancel", { roomId });
        return answers.some(Boolean);
      } catch (error) {
        log.warn("cluster.cancel_failed", { roomId, error });
        return false;
      }
    },
    async close() {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
