import type { StoredProvenance } from "@atelier/protocol";

/**
 * The provenance record as a result page shows it (pure): what explains and reproduces the image
 * (method, settings, seed, model, timings, sizes, which images), with people by display name and
 * without the service's internal ids — the room, the run, the run it resumed from, user ids.
 * `names` maps user ids to display names; someone not found shows as "someone".
 */
export function provenanceForPage(
  record: StoredProvenance,
  names: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const name = (userId: unknown) => (typeof userId === "string" ? (names.get(userId) ?? "someone") : undefined);
  const { roomId: _room, runId: _run, resumedFromId, authorId, savedBy, liveEdits, ...rest } = record;
  return {
    ...rest,
    ...(authorId !== undefined ? { startedBy: name(authorId) } : {}),
    ...(savedBy !== undefined ? { savedBy: name(savedBy) } : {}),
    ...(resumedFromId !== undefined ? { resumed: resumedFromId !== null } : {}),
    ...(liveEdits !== undefined
      ? { liveEdits: liveEdits.map(({ authorId: editor, ...edit }) => ({ ...edit, by: name(editor) })) }
      : {}),
  };
}

/** The user ids a provenance record names (to look their display names up). */
export function provenanceUserIds(record: StoredProvenance): string[] {
  const ids = [record.authorId, record.savedBy, ...(record.liveEdits ?? []).map((e) => e.authorId)];
  return [...new Set(ids.filter((id): id is string => typeof id === "string"))];
}
