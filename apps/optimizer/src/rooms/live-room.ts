/**
 * A room as this node serves it: its view of the co-edited document (following the document
 * store field by field, by version), who changed each field, its current run with the run's loss
 * history and latest preview frame, and the fields that need a restart. The room owns this
 * state: the run parts change it through its methods.
 */
import { isDeepStrictEqual } from "node:util";
import {
  MAX_LOSS_HISTORY,
  type Author,
  type IterationStats,
  type PreviewMime,
  type RoomDocument,
  type RoomField,
} from "@atelier/protocol";
import type { LiveRun } from "../common/live-run.ts";
import type { StoredDocument } from "./document-store.ts";

export interface PreviewFrame {
  roomId: string;
  runId: string;
  iteration: number;
  mime: PreviewMime;
  width: number;
  height: number;
  data: Buffer;
  encodedAt: number;
}

export class LiveRoom {
  readonly id: string;
  name: string;
  document: RoomDocument;
  version: number;
  /** fields edited during the current run that need a restart to take effect */
  restartNeeded: RoomField[] = [];
  /**
   * Who last changed each field, for late joiners' "changed by" notes. Kept in memory only
   * (the stored document is validated as a RoomDocument, so authors stay out of it): after a
   * restart, or on a node that loaded the room later, fields show no author until edited again.
   */
  fieldAuthors: Partial<Record<RoomField, Author>> = {};
  run: LiveRun | null = null;
  history: IterationStats[] = [];
  latestPreview: PreviewFrame | null = null;
  /** the version last written to the database */
  savedVersion: number;

  /** the version at which each field last changed, as far as this node knows */
  fieldVersions: Partial<Record<RoomField, number>>;

  constructor(row: { id: string; name: string } & StoredDocument) {
    this.id = row.id;
    this.name = row.name;
    this.document = row.document;
    this.version = row.version;
    this.savedVersion = row.version;
    this.fieldAuthors = { ...row.fieldAuthors };
    this.fieldVersions = { ...row.fieldVersions };
  }

  /**
   * Takes a change the store accepted (here or on another node). Changes can reach a node out
   * of order (its own write's reply and another node's message race): a field only moves to a
   * higher version, so every node ends on the store's value. False when the change was stale.
   */
  applyChange(field: RoomField, value: unknown, version: number, author: Author | undefined): boolean {
    if (version <= (this.fieldVersions[field] ?? 0)) return false;
    this.document = { ...this.document, [field]: value };
    if (author) this.fieldAuthors = { ...this.fieldAuthors, [field]: author };
    this.fieldVersions = { ...this.fieldVersions, [field]: version };
    this.version = Math.max(this.version, version);
    return true;
  }

  /**
   * A run becomes the room's run. A new one starts an empty chart; one that already ran
   * (a run row shown after a restart) brings the chart and last frame it left.
   */
  attachRun(run: LiveRun, shown?: { history: IterationStats[]; preview: PreviewFrame | null }): void {
    this.run = run;
    this.history = [];
    if (shown) this.showRun(shown.history, shown.preview);
  }

  /** What the room's run showed so far (for late joiners): its loss history and, when known, its latest frame. */
  showRun(history: IterationStats[], preview: PreviewFrame | null): void {
    this.history = history;
    if (preview) this.latestPreview = preview;
  }

  /** The run's latest frame (or the image it left), which late joiners get first. */
  showPreview(frame: PreviewFrame): void {
    this.latestPreview = frame;
  }

  /** The run went back to a checkpoint taken at `iteration`: the iterations after it are redone, so the chart goes on from there, not twice. */
  rewindHistory(runId: string, iteration: number): void {
    this.history = this.history.filter((h) => h.runId !== runId || h.iteration <= iteration);
  }

  /** The fields that need a restart to take effect; false when they did not change. */
  setRestartNeeded(fields: RoomField[]): boolean {
    if (isDeepStrictEqual(fields, this.restartNeeded)) return false;
    this.restartNeeded = fields;
    return true;
  }

  /**
   * One iteration's figures, once: a room loaded in a cluster reads the history from Redis while
   * the same iteration's event may still be on its way over pub/sub, and would show it twice. A
   * redone iteration (a resumed run) has other figures and is kept; rewindHistory drops the old one.
   */
  pushStats(stats: IterationStats): void {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const held = this.history[i]!;
      if (held.runId !== stats.runId) continue;
      if (held.iteration < stats.iteration) break;
      if (held.iteration === stats.iteration && held.total === stats.total) return;
    }
    this.history.push(stats);
    if (this.history.length > MAX_LOSS_HISTORY) this.history.splice(0, this.history.length - MAX_LOSS_HISTORY);
  }

  get isDirty(): boolean {
    return this.version !== this.savedVersion;
  }
}
