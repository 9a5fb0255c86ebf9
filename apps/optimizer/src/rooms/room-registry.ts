/**
 * The rooms this node serves (live-room.ts): loaded on first use, their documents opened in the
 * DocumentStore (the authoritative copy: each room's view follows it, field by field, by
 * version). The store's document is written back to the database debounced, and flushed on
 * shutdown, so a restart loses no edit.
 */
import { parseRoomDocument, serializeRoomDocument, type Db } from "@atelier/db";
import { ROOM_FIELDS, type Author, type RoomDocument, type RoomField } from "@atelier/protocol";
import type { DocumentOffer, DocumentStore } from "./document-store.ts";
import type { Logger } from "../common/log.ts";
import { LiveRoom } from "./live-room.ts";

/**
 * How far a reseeded document's version jumps: versions handed out after the last database
 * save and before the store lost the document are below it (one save period of edits is far fewer).
 */
const RESEED_VERSION_GAP = 1000;

/** how long a join or a start waits for the store's copy before going on with this node's view */
const CATCH_UP_MS = 1_000;

/**
 * What a node offers the store for a room (pure: unit-tested): each field the newer of the saved
 * copy's (known at the saved version) and this node's view (known at its field version); the
 * offer's own version `gap` above both, above every version handed out before a loss.
 */
export function offerOf(
  view: Pick<LiveRoom, "document" | "version" | "fieldVersions" | "fieldAuthors">,
  saved: { document: RoomDocument; version: number } | null,
  gap: number,
): DocumentOffer {
  const document: Record<string, unknown> = {};
  const fieldVersions: Partial<Record<RoomField, number>> = {};
  const fieldAuthors: Partial<Record<RoomField, Author>> = {};
  for (const field of ROOM_FIELDS) {
    const known = view.fieldVersions[field] ?? 0;
    if (saved && saved.version > known) {
      document[field] = saved.document[field];
      fieldVersions[field] = saved.version;
    } else {
      document[field] = view.document[field];
      fieldVersions[field] = known;
      const author = view.fieldAuthors[field];
      if (author) fieldAuthors[field] = author;
    }
  }
  return {
    document: document as RoomDocument,
    version: Math.max(view.version, saved?.version ?? 0) + gap,
    fieldVersions,
    fieldAuthors,
  };
}

export class RoomRegistry {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly loading = new Map<string, Promise<LiveRoom | null>>();
  private readonly saveTimers = new Map<string, NodeJS.Timeout>();
  /** saves under way: close() waits for them, so none is cut off by the database closing */
  private readonly saving = new Set<Promise<void>>();
  /** each room's write that acks wait for (RoomRegistry.saved), one at a time */
  private readonly writing = new Map<string, Promise<void>>();
  private closed = false;
  /** what a freshly loaded room goes through before anyone gets it (see onLoad) */
  private prepare: (room: LiveRoom) => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    readonly store: DocumentStore,
    private readonly saveDelayMs = 250,
  ) {}

  /**
   * What a room goes through once, when first loaded, before anyone gets it: the run service
   * attaches its latest run (gateway/run-handlers.ts). The rooms know nothing of runs, so the
   * run service, built after the registry, hands this in before the node takes clients.
   */
  onLoad(prepare: (room: LiveRoom) => Promise<void>): void {
    this.prepare = prepare;
  }

  get(roomId: string): LiveRoom | undefined {
    return this.rooms.get(roomId);
  }

  all(): LiveRoom[] {
    return [...this.rooms.values()];
  }

  /** The room, loaded from the database on first use; null when it does not exist. */
  load(roomId: string): Promise<LiveRoom | null> {
    const live = this.rooms.get(roomId);
    if (live) return Promise.resolve(live);
    let pending = this.loading.get(roomId);
    if (!pending) {
      pending = this.loadFromDb(roomId).finally(() => this.loading.delete(roomId));
      this.loading.set(roomId, pending);
    }
    return pending;
  }

  private async loadFromDb(roomId: string): Promise<LiveRoom | null> {
    const row = await this.db.room.findUnique({
      where: { id: roomId },
      select: { id: true, name: true, document: true, version: true },
    });
    if (!row) return null;
    const parsed = parseRoomDocument(row.document);
    if (parsed.issues.length > 0) this.log.warn("room.document_repaired", { roomId, issues: parsed.issues });
    // where the store may have lost the document, a seed from the database starts above every
    // version the nodes may still hold, so their newer copies can be added (DocumentStore.open)
    const stored = await this.store.open(roomId, {
      document: parsed.document,
      version: row.version + (this.store.mayLoseDocuments ? RESEED_VERSION_GAP : 0),
      fieldVersions: Object.fromEntries(ROOM_FIELDS.map((f) => [f, row.version])),
    });
    const room = new LiveRoom({ id: row.id, name: row.name, ...stored });
    await this.prepare(room);
    this.rooms.set(roomId, room);
    return room;
  }

  /** Writes the document after a short quiet period (many edits → one write). */
  scheduleSave(room: LiveRoom): void {
    if (this.closed || this.saveTimers.has(room.id)) return;
    const timer = setTimeout(() => {
      this.saveTimers.delete(room.id);
      void this.save(room);
    }, this.saveDelayMs);
    this.saveTimers.set(room.id, timer);
  }

  /**
   * Writes the document now (pending debounced write included). Used before an edit that brings
   * in images is broadcast: the web app checks image access against the saved document, so a
   * member who sees the new image must be able to load it at once.
   */
  async saveNow(room: LiveRoom): Promise<void> {
    const timer = this.saveTimers.get(room.id);
    if (timer) clearTimeout(timer);
    this.saveTimers.delete(room.id);
    await this.save(room);
  }

  /**
   * Resolves once the database holds the room's document at `version` or later: an edit is
   * acknowledged only then where the store itself does not outlive the process (embedded), so
   * a kill right after an ack keeps the edit. A group commit: edits arriving while a write is
   * under way share the next one. Rejects when the database did not take it (the edit stays
   * applied and is written again by the retry the failed save scheduled).
   */
  async saved(room: LiveRoom, version: number): Promise<void> {
    while (room.savedVersion < version) {
      if (this.closed) throw new Error("the optimiser is shutting down");
      const inFlight = this.writing.get(room.id);
      if (inFlight) {
        await inFlight;
        continue;
      }
      const timer = this.saveTimers.get(room.id);
      if (timer) clearTimeout(timer);
      this.saveTimers.delete(room.id);
      const write = this.save(room);
      this.writing.set(room.id, write);
      try {
        await write;
      } finally {
        if (this.writing.get(room.id) === write) this.writing.delete(room.id);
      }
      if (room.savedVersion < version) throw new Error("the database did not take the edit");
    }
  }

  private save(room: LiveRoom): Promise<void> {
    // After close() the final flush has run and the database may be gone: a save started then
    // (a socket's disconnect handler evicting its room) would fail and retry forever.
    if (this.closed) return Promise.resolve();
    const saving = this.write(room).finally(() => this.saving.delete(saving));
    this.saving.add(saving);
    return saving;
  }

  private async write(room: LiveRoom): Promise<void> {
    if (!room.isDirty) return;
    let version = room.version;
    try {
      // the store's copy (one consistent snapshot: it may hold other nodes' edits this node has
      // not heard of yet); this node's view only when the store lost it
      const stored = await this.store.read(room.id);
      const document = stored && stored.version >= room.version ? stored.document : room.document;
      version = stored ? Math.max(stored.version, room.version) : room.version;
      // never overwrite a newer stored version (a save that was overtaken, or another node's)
      await this.db.room.updateMany({
        where: { id: room.id, version: { lt: version } },
        data: { document: serializeRoomDocument(document), version },
      });
      room.savedVersion = Math.max(room.savedVersion, version);
      this.log.debug("room.saved", { roomId: room.id, version });
    } catch (error) {
      // keep it dirty and try again: an edit must not be lost to a passing database error
      this.log.error("room.save_failed", { roomId: room.id, version, error });
      this.scheduleSave(room);
    }
  }

  /**
   * Shutdown: waits for saves under way, writes every pending document once more, and takes no
   * saves after that. Call it when no more edits can arrive (sockets disconnected).
   */
  async close(): Promise<void> {
    for (const timer of this.saveTimers.values()) clearTimeout(timer);
    this.saveTimers.clear();
    await Promise.all(this.saving);
    await Promise.all(this.all().map((room) => this.save(room)));
    this.closed = true;
    for (const timer of this.saveTimers.values()) clearTimeout(timer);
    this.saveTimers.clear();
  }

  /** Forgets a room nobody is in and nothing runs in (after saving it). */
  async evict(roomId: string): Promise<void> {
    const room = this.rooms.get(roomId);
    if (!room) return;
    const timer = this.saveTimers.get(roomId);
    if (timer) clearTimeout(timer);
    this.saveTimers.delete(roomId);
    await this.save(room);
    if (room.isDirty) return;
    this.rooms.delete(roomId);
    this.store.release(roomId);
  }

  /**
   * The store lost the room's document (a Redis that restarted or was flushed), or may have (this
   * node's connection to it came back): this node offers its copy, field by field the newer of
   * the database's and its own, with a version above anything handed out before. The first offer
   * seeds the document; later ones add fields nobody has written since that this node knew newer.
   * Then this node's view takes the store's.
   */
  async reseed(room: LiveRoom): Promise<void> {
    const row = await this.db.room.findUnique({ where: { id: room.id }, select: { document: true, version: true } });
    const saved = row ? { document: parseRoomDocument(row.document).document, version: row.version } : null;
    const offer = offerOf(room, saved, RESEED_VERSION_GAP);
    const stored = await this.store.open(room.id, offer);
    this.log.info("room.document_offered", { roomId: room.id, offered: offer.version, stored: stored.version });
    for (const field of ROOM_FIELDS)
      room.applyChange(field, stored.document[field], stored.fieldVersions[field] ?? 0, stored.fieldAuthors[field]);
  }

  /** Every room this node holds is offered again: its Redis connection came back, perhaps to an empty Redis. */
  async reseedAll(): Promise<void> {
    for (const room of this.all()) {
      await this.reseed(room).catch((error: unknown) =>
        this.log.warn("room.reseed_failed", { roomId: room.id, error }),
      );
    }
  }

  /**
   * Before this node's view of a room is served (a joiner's state) or acted on (the parameters a
   * run starts with): it catches up with the store, in case an announcement of a change never
   * reached this node (those in flight when Redis died go with it). Bounded: with the store out of
   * reach, this node's view is what there is.
   */
  async catchUp(room: LiveRoom): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const outOfReach = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from the document store in ${CATCH_UP_MS} ms`)),
        CATCH_UP_MS,
      );
    });
    try {
      await Promise.race([this.refresh(room), outOfReach]);
    } catch (error) {
      this.log.warn("room.catch_up_failed", { roomId: room.id, error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** This node's view catches up with the store (after a conditional write found it behind). */
  async refresh(room: LiveRoom): Promise<void> {
    const stored = await this.store.read(room.id);
    if (!stored) return this.reseed(room);
    for (const field of ROOM_FIELDS)
      room.applyChange(field, stored.document[field], stored.fieldVersions[field] ?? 0, stored.fieldAuthors[field]);
  }
}
