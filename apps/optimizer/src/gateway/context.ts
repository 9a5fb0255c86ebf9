/**
 * What every part of the gateway (the Socket.IO side of the service) shares: the typed server
 * and socket, what a socket carries, the inter-node events, and the context object the
 * handler modules are built from. Types and tiny helpers only: every handler module imports
 * this file, and it imports none of them.
 */
import type { Redis } from "ioredis";
import type { Server, Socket } from "socket.io";
import type { Db } from "@atelier/db";
import type {
  ClientToServerEvents,
  InterNodePayload,
  Role,
  RoomActivity,
  RoomField,
  ServerToClientEvents,
} from "@atelier/protocol";
import type { PreviewFanout } from "./fanout.ts";
import type { ServiceLimits } from "../common/limits.ts";
import type { User } from "../common/live-run.ts";
import type { Logger } from "../common/log.ts";
import type { RoomRegistry } from "../rooms/room-registry.ts";

export interface RoomMembership {
  role: Role;
  editingField: RoomField | null;
  /** when the focus last changed, to pick a user's latest focus across their tabs */
  focusAt: number;
}

export interface SocketData {
  user: User;
  color: string;
  rooms: Record<string, RoomMembership>;
  /** when the socket's realtime token expires (ms since the epoch): checked while the socket lives */
  tokenExpiresAt: number;
  /** the session generation its token carries (`gen`): a sign-out bumps the user's, which ends this socket */
  generation: number;
}

/**
 * Messages between optimiser nodes (cluster mode): they keep each node's view of a room current.
 * Their schemas (checked on arrival) are protocol's interNodeEventSchemas.
 */
export interface InterServerEvents {
  "atelier:doc": (p: InterNodePayload<"atelier:doc">) => void;
  "atelier:membership": (p: InterNodePayload<"atelier:membership">, ack: (sockets: number) => void) => void;
  "atelier:session": (p: InterNodePayload<"atelier:session">) => void;
}

export type AtelierServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type AtelierSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

type OneWayEvent = Exclude<keyof InterServerEvents, "atelier:membership">;

/** Cluster mode's link between gateways (cluster/adapter.ts makes it). */
export interface ClusterLink {
  /** the command connection (not blocking: the adapter reads its stream on its own connections) */
  redis: Redis;
  /** every Redis key of this deployment starts with it ("atelier:" unless a test picks its own) */
  keyPrefix: string;
  /** the adapter's Redis stream (what every gateway reads its broadcasts from) */
  streamName: string;
  /** Sends a message to every other node. */
  emit<E extends OneWayEvent>(event: E, payload: Parameters<InterServerEvents[E]>[0]): void;
  /** Tells the other nodes that a member's role changed; resolves how many of their sockets followed. */
  announceMembership(roomId: string, userId: string): Promise<number>;
  close(): Promise<void>;
}

export const roomKey = (roomId: string) => `room:${roomId}`;

export interface GatewayContext {
  io: AtelierServer;
  db: Db;
  log: Logger;
  nodeId: string;
  /** the realtime token secret (HMAC, shared with the web app) */
  secret: string;
  limits: ServiceLimits;
  rooms: RoomRegistry;
  fanout: PreviewFanout;
  /** null in embedded mode (one node) */
  cluster: ClusterLink | null;
  isClosing(): boolean;
}

/** Tells the room who did what to its history (the activity line). */
export function broadcastActivity(
  ctx: Pick<GatewayContext, "io" | "log">,
  roomId: string,
  author: User,
  kind: RoomActivity["kind"],
  runId: string,
): void {
  const activity: RoomActivity = {
    roomId,
    author: { userId: author.id, name: author.name },
    kind,
    runId,
    at: Date.now(),
  };
  ctx.log.info("room.activity", { roomId, userId: author.id, kind, runId });
  ctx.io.to(roomKey(roomId)).emit("room:activity", activity);
}
