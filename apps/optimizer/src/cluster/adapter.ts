/**
 * Cluster mode (REDIS_URL): the Socket.IO Redis *streams* adapter — room broadcasts reach the
 * clients of every gateway, and because every broadcast is kept a while in a Redis stream,
 * connection-state recovery works across gateways (a client that reconnects through another
 * gateway gets the events it missed; the classic pub/sub adapter cannot do that) — plus a small
 * typed channel for what nodes tell each other (server-side emits: membership changes). The same ioredis client serves the document store.
 */
import { createAdapter } from "@socket.io/redis-streams-adapter";
import { Redis } from "ioredis";
import type { AtelierServer, ClusterLink } from "../gateway/context.ts";
import type { Logger } from "../common/log.ts";

export async function connectCluster(
  io: AtelierServer,
  url: string,
  log: Logger,
  keyPrefix: string,
): Promise<ClusterLink> {
  const streamName = `${keyPrefix}socket.io`;
  const redis = new Redis(url, { lazyConnect: true });
  redis.on("error", (error: unknown) => log.error("cluster.redis_error", { error }));
  await redis.connect();
  io.adapter(
    createAdapter(redis, {
      streamName,
      channelPrefix: `${keyPrefix}socket.io`,
      sessionKeyPrefix: `${keyPrefix}sio:session:`,
    }),
  );
  log.info("cluster.connected", { redis: url.replace(/\/\/[^@]*@/, "//***@"), keyPrefix });
  return {
    redis,
    keyPrefix,
    streamName,
    emit(event, payload) {
      // socket.io's emit typing cannot follow a generic event name; the signature above keeps callers typed
      (io.serverSideEmit as (event: string, payload: unknown) => boolean)(event, payload);
    },
    async announceMembership(roomId, userId) {
      try {
        // (the cluster adapter waits 5 s for every node it knows of, then gives up)
        const answers: unknown[] = await io.serverSideEmitWithAck("atelier:membership", { roomId, userId });
        return answers.reduce((sum: number, n) => sum + (typeof n === "number" ? n : 0), 0);
      } catch (error) {
        // a node that did not answer in time still applies it; the periodic re-check catches the rest
        log.warn("cluster.membership_failed", { roomId, userId, error });
        return 0;
      }
    },
    async close() {
      // the adapter's own connections (stream reader, pub/sub) end with the server's close
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
