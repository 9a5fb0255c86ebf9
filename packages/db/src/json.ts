import {
  MAX_STYLES,
  ROOM_FIELDS,
  defaultRoomDocument,
  formatZodError,
  parseFieldValue,
  roomDocument,
  runParams,
  provenance,
  storedProvenance,
  capLossHistory,
  lossHistory,
  type IterationStats,
  styleRef,
  type Provenance,
  type StoredProvenance,
  type RoomDocument,
  type RunParams,
  type StyleRef,
} from "@atelier/protocol";

/*
 * Typed readers for the JSON text columns (Room.document, Run.params, Result.styleImageIds,
 * Result.provenance), validated with the protocol schemas. Readers never throw on bad stored
 * text: they salvage what is valid and report the rest. Writers validate and throw, so nothing
 * invalid gets stored in the first place.
 */

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` };
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export type ParsedRoomDocument = {
  document: RoomDocument;
  /** what was invalid and replaced by its default (empty when the stored text was valid) */
  issues: string[];
};

/**
 * Parses a stored room document field by field: a valid field keeps its value, an invalid or
 * missing one gets its default, so one bad field never loses the others. Invalid style entries
 * are dropped one by one, keeping the valid ones.
 */
export function parseRoomDocument(text: string): ParsedRoomDocument {
  const json = parseJson(text);
  if (!json.ok) return { document: defaultRoomDocument(), issues: [json.error] };
  const whole = roomDocument.safeParse(json.value);
  if (whole.success) return { document: whole.data, issues: [] };
  if (!isPlainObject(json.value)) return { document: defaultRoomDocument(), issues: ["document is not an object"] };

  const stored = json.value;
  const issues: string[] = [];
  const salvaged: Record<string, unknown> = {};
  for (const field of ROOM_FIELDS) {
    if (!(field in stored)) continue;
    const parsed = parseFieldValue(field, stored[field]);
    if (parsed.ok) {
      salvaged[field] = parsed.value;
    } else if (field === "styles" && Array.isArray(stored.styles)) {
      const kept: StyleRef[] = [];
      for (const entry of stored.styles) {
        const s = styleRef.safeParse(entry);
        if (s.success && kept.length < MAX_STYLES) kept.push(s.data);
      }
      salvaged.styles = kept;
      issues.push(`${parsed.error} (kept ${kept.length} valid of ${stored.styles.length})`);
    } else {
      issues.push(parsed.error);
    }
  }
  const result = roomDocument.safeParse(salvaged);
  // Fields are independent, so this holds; the fallback keeps the reader total regardless.
  if (!result.success) return { document: defaultRoomDocument(), issues: [...issues, formatZodError(result.error)] };
  return { document: result.data, issues };
}

/** The room's document; invalid stored fields read as their defaults (see parseRoomDocument). */
export function readRoomDocument(room: { document: string }): RoomDocument {
  return parseRoomDocument(room.document).document;
}

/** Validates and serialises a room document for Room.document; throws on an invalid one. */
export function serializeRoomDocument(document: RoomDocument): string {
  return JSON.stringify(roomDocument.parse(document));
}

/** The run's params, or null when the stored text is not valid RunParams. */
export function readRunParams(run: { params: string }): RunParams | null {
  const json = parseJson(run.params);
  if (!json.ok) return null;
  const parsed = runParams.safeParse(json.value);
  return parsed.success ? parsed.data : null;
}

/** Validates and serialises run params for Run.params; throws on invalid ones. */
export function serializeRunParams(params: RunParams): string {
  return JSON.stringify(runParams.parse(params));
}

function isIdList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === "string" && s.length >= 1 && s.length <= 64);
}

/** Result.styleImageIds as an array ([] when the stored text is invalid). */
export function readStyleImageIds(result: { styleImageIds: string }): string[] {
  const json = parseJson(result.styleImageIds);
  return json.ok && isIdList(json.value) ? json.value : [];
}

/** Serialises style image ids for Result.styleImageIds; throws on invalid ids. */
export function serializeStyleImageIds(ids: readonly string[]): string {
  const list = [...ids];
  if (!isIdList(list)) throw new Error("style image ids must be 1–64 character strings");
  return JSON.stringify(list);
}

/** Result.provenance, checked against the protocol schema (fields may be missing), or null when it is not a valid record. */
export function readProvenance(result: { provenance: string }): StoredProvenance | null {
  const json = parseJson(result.provenance);
  if (!json.ok) return null;
  const parsed = storedProvenance.safeParse(json.value);
  return parsed.success ? parsed.data : null;
}

/** Validates a result's provenance (throws when invalid) and returns the text to store. */
export function serializeProvenance(record: Provenance): string {
  const parsed = provenance.safeParse(record);
  if (!parsed.success) throw new Error(`invalid provenance: ${formatZodError(parsed.error)}`);
  return JSON.stringify(parsed.data);
}

/** The image ids a document refers to: the content image and every style image. */
export function imageIdsOfDocument(document: Pick<RoomDocument, "contentImageId" | "styles">): string[] {
  const ids = document.styles.map((s) => s.imageId);
  if (document.contentImageId) ids.unshift(document.contentImageId);
  return ids;
}

/** Run.lossHistory as loss points ([] when the stored text is not a valid loss curve). */
export function readLossHistory(run: { lossHistory: string }): IterationStats[] {
  const json = parseJson(run.lossHistory);
  if (!json.ok) return [];
  const parsed = lossHistory.safeParse(json.value);
  return parsed.success ? parsed.data : [];
}

/** Serialises a run's loss curve for Run.lossHistory, keeping its newest MAX_LOSS_HISTORY points; throws on invalid points. */
export function serializeLossHistory(history: readonly IterationStats[]): string {
  return JSON.stringify(lossHistory.parse(capLossHistory(history)));
}
