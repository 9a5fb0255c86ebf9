/**
 * rooms/: the rooms this node serves — each room's live view of its co-edited document
 * (following the document store field by field, by version), its current run and loss
 * history, its latest preview; the document store (in memory embedded, Redis in a cluster);
 * and mask edits (one stroke at a time). Imports nothing from runs/, cluster/ or engine-slots/.
 *
 * The folder's surface (see common/index.ts for why other files import the named files directly):
 */
export { RoomRegistry, offerOf } from "./room-registry.ts";
export type { LiveRoom, PreviewFrame } from "./live-room.ts";
export { decideFieldWrite, type DocumentStore, type FieldWrite, type WriteOutcome } from "./document-store.ts";
export { MemoryDocumentStore } from "./document-store-memory.ts";
export { RedisDocumentStore } from "./document-store-redis.ts";
export { applyMaskEdit } from "./mask-edits.ts";
