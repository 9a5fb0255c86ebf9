/**
 * The authoritative store of room documents: per-field last-writer-wins with one version
 * counter per room that only goes up. Embedded mode keeps it in this process
 * (rooms/document-store-memory.ts); cluster mode keeps it in Redis and applies each write with one Lua
 * script (rooms/document-store-redis.ts), so versions are handed out once across every gateway.
 * Both follow `decideFieldWrite`, the one rule, and both are written to the database by the
 * room registry (debounced), so a restart — or a Redis that lost its keys — loses nothing.
 */
import type { Author, RoomDocument, RoomField } from "@atelier/protocol";

/** A room document as the store holds it. */
export interface StoredDocument {
  document: RoomDocument;
  version: number;
  /** the version at which each field last changed (the seed version for fields unchanged since) */
  fieldVersions: Partial<Record<RoomField, number>>;
  /** who last changed each field (only fields changed since the store was seeded) */
  fieldAuthors: Partial<Record<RoomField, Author>>;
}

/** One field write: an already-validated value (canonical: as its protocol schema outputs it). */
export interface FieldWrite {
  field: RoomField;
  value: unknown;
  author: Author;
  /** the document version the author saw (last writer wins: a stale base is applied, not refused) */
  baseVersion: number;
  /**
   * A conditional write (read-modify-write fields such as `masks`): applied only while the field
   * is still at this version, otherwise refused as a conflict so the caller can recompute.
   */
  ifFieldVersion?: number;
  /**
   * The store may tell the room's clients itself (`doc:changed`, in version order) when it can
   * (Redis: through the adapter's stream); `announced` in the outcome says whether it did.
   */
  announce?: boolean;
}

export type WriteOutcome =
  /** announced: the room's clients were told; nodesTold: every node was sent `atelier:doc` (Redis: on the stream) */
  | { status: "applied"; version: number; announced?: boolean; nodesTold?: boolean }
  | { status: "unchanged"; version: number }
  | { status: "conflict"; version: number }
  /** the store has no such document (never seeded, or Redis lost it): seed it, then write again */
  | { status: "missing"; version: 0 };

/** The state `decideFieldWrite` looks at: the document's version, and the field's. */
interface FieldState {
  version: number;
  fieldVersion: number;
  /** the written value equals the current one (memory: deep equality; Redis: canonical JSON) */
  sameValue: boolean;
  ifFieldVersion?: number;
}

/**
 * The one rule of a field write (the Lua script in rooms/document-store-redis.ts is this, line by
 * line): a conditional write whose field moved on is a conflict; a value equal to the current
 * one changes nothing; anything else is applied with the next version.
 */
export function decideFieldWrite(s: FieldState): Exclude<WriteOutcome, { status: "missing" }> {
  if (s.ifFieldVersion !== undefined && s.ifFieldVersion !== s.fieldVersion)
    return { status: "conflict", version: s.version };
  if (s.sameValue) return { status: "unchanged", version: s.version };
  return { status: "applied", version: s.version + 1 };
}

/**
 * A node's copy of a room document offered to the store: what seeds it when the store has none,
 * and, after the store lost it, what the other nodes add to it (see `open`).
 */
export interface DocumentOffer {
  document: RoomDocument;
  /** the version the document starts at if this offer seeds it */
  version: number;
  /** the version each field last changed at, as far as the offer knows (default: `version`) */
  fieldVersions?: Partial<Record<RoomField, number>>;
  fieldAuthors?: Partial<Record<RoomField, Author>>;
}

export interface DocumentStore {
  /**
   * Whether documents can vanish from under the nodes (Redis restarted empty): then a document
   * seeded from the database starts far above the versions handed out before (RoomRegistry), so
   * nodes that knew newer values can still add them.
   */
  readonly mayLoseDocuments: boolean;
  /**
   * The room's document. When the store has none yet, the offer becomes it — atomically: of
   * several gateways seeding at once, one wins and all get the winner's document. When it has
   * one, the offer adds the fields that nobody has written since it was seeded and that the
   * offer knows a newer value of (a version from before the seed, above the one held): after a
   * loss, the newest value any node knew survives whichever node seeded first. Memory: the
   * document never vanishes, so an offer for one it holds changes nothing.
   */
  open(roomId: string, offer: DocumentOffer): Promise<StoredDocument>;
  /** The room's document as the store holds it now; null when it holds none. */
  read(roomId: string): Promise<StoredDocument | null>;
  write(roomId: string, write: FieldWrite): Promise<WriteOutcome>;
  /** This node no longer needs the room (memory: forget it; Redis: the shared copy stays). */
  release(roomId: string): void;
  close(): Promise<void>;
}
