"use client";

import { useCallback, useEffect, useId, useState } from "react";
import { MAX_STYLES, type ImageInfo, type ListStylesResponse, type StyleInfo, type StyleRef } from "@atelier/protocol";
import { DropZone, uploadFile } from "../drop-zone";
import { FramedImage } from "../image";
import { useStudio } from "./context";
import { BlendWeight } from "./blend-weight";
import { FieldShell } from "./field-shell";
import { useRoomStyleNames } from "./use-room-style-names";
import { Alert } from "@/components/alert";
import { blendShare } from "@/lib/style-regions";

type Library = {
  status: "loading" | "ready" | "error";
  data: ListStylesResponse | null;
  error: string | null;
};

/** Fetches my styles and the public ones; never throws (a failure is the library's error state). */
async function fetchStyleLibrary(): Promise<Library> {
  try {
    const res = await fetch("/api/styles", { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return { status: "ready", data: (await res.json()) as ListStylesResponse, error: null };
  } catch (e) {
    return { status: "error", data: null, error: `Could not load the style library (${(e as Error).message}).` };
  }
}

/** My styles and public ones, loaded once when first needed (names for the blend list, choices for "add"). */
function useStyleLibrary() {
  const [lib, setLib] = useState<Library>({ status: "loading", data: null, error: null });
  useEffect(() => {
    void fetchStyleLibrary().then(setLib);
  }, []);
  const add = useCallback((style: StyleInfo) => {
    setLib((l) => (l.data ? { ...l, data: { ...l.data, mine: [style, ...l.data.mine] } } : l));
  }, []);
  const reload = useCallback(() => {
    setLib((l) => ({ ...l, status: "loading", error: null }));
    return fetchStyleLibrary().then(setLib);
  }, []);
  return { lib, reload, add };
}

export function ContentPicker() {
  const { doc, conn, editable } = useStudio();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onFile(file: File) {
    setBusy(true);
    setError(null);
    try {
      const { image } = await uploadFile<{ image: ImageInfo }>("/api/images", file);
      conn.edit("contentImageId", image.id);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const upload = (label: string, className: string) => (
    <DropZone
      onFile={onFile}
      disabled={busy}
      label={busy ? "Uploading…" : label}
      testId="content-upload"
      className={className}
    />
  );

  return (
    <FieldShell field="contentImageId" label="Content photo">
      {doc.contentImageId ? (
        <div className="space-y-2">
          <FramedImage
            id={doc.contentImageId}
            alt="The content photo being painted"
            thumb={640}
            ratio="4 / 3"
            fit="contain"
            className="rounded-xl border border-line"
          />
          {editable && upload("Replace: drop a photo or browse", "text-center")}
        </div>
      ) : editable ? (
        upload("Drop a photo here or browse", "min-h-40")
      ) : (
        <div
          className="frame flex items-center justify-center rounded-xl border border-line text-sm text-muted"
          style={{ aspectRatio: "4 / 3" }}
        >
          No photo chosen yet
        </div>
      )}
      <Alert message={error} className="mt-2 text-sm" testId="content-upload-error" />
    </FieldShell>
  );
}

/** One labelled grid of styles to add; a style already in the room's list cannot be picked twice. */
function StyleChoiceGroup({
  title,
  empty,
  testId,
  choices,
  chosen,
  onPick,
}: {
  title: string;
  empty: string;
  testId: string;
  choices: StyleInfo[];
  chosen: StyleRef[];
  onPick: (imageId: string) => void;
}) {
  return (
    <div>
      <p className="mb-2 text-xs font-semibold uppercase tracking-wider text-muted">{title}</p>
      {choices.length === 0 ? (
        <p className="text-sm text-muted">{empty}</p>
      ) : (
        <ul className="grid grid-cols-4 gap-2" data-testid={testId}>
          {choices.map((st) => (
            <StyleChoice
              key={st.id}
              style={st}
              onPick={() => onPick(st.imageId)}
              disabled={chosen.some((x) => x.imageId === st.imageId)}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function StyleChoice({ style, onPick, disabled }: { style: StyleInfo; onPick: () => void; disabled: boolean }) {
  return (
    <li>
      <button
        type="button"
        onClick={onPick}
        disabled={disabled}
        className="group block w-full rounded-lg text-left disabled:opacity-50"
        data-testid="style-choice"
        aria-label={`Add style ${style.name}`}
      >
        <FramedImage
          id={style.imageId}
          alt=""
          thumb={160}
          className="rounded-lg ring-1 ring-line group-hover:ring-2 group-hover:ring-accent"
        />
        <span className="mt-1 block truncate text-xs">{style.name}</span>
      </button>
    </li>
  );
}

export function StylePicker() {
  const { doc, conn, editable, state } = useStudio();
  const { lib, reload, add } = useStyleLibrary();
  const roomNames = useRoomStyleNames(
    state.roomId,
    doc.styles.map((s) => s.imageId),
  );
  const [adding, setAdding] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const panelId = useId();
  const styles = doc.styles;
  const totalWeight = styles.reduce((s, x) => s + x.weight, 0);
  const full = styles.length >= MAX_STYLES;

  const nameOf = (imageId: string, i: number) =>
    roomNames[imageId] ??
    lib.data?.mine.find((s) => s.imageId === imageId)?.name ??
    lib.data?.public.find((s) => s.imageId === imageId)?.name ??
    `Style ${i + 1}`;

  const setStyles = (next: StyleRef[]) => conn.edit("styles", next);
  const pick = (imageId: string) => {
    if (styles.some((s) => s.imageId === imageId) || full) return;
    setStyles([...styles, { imageId, weight: 1 }]);
    setAdding(false);
  };

  async function onFile(file: File) {
    setBusy(true);
    setError(null);
    try {
      const name =
        file.name
          .replace(/\.[a-z0-9]+$/i, "")
          .replace(/[-_]+/g, " ")
          .trim()
          .slice(0, 80) || "Untitled style";
      const { style } = await uploadFile<{ style: StyleInfo }>("/api/styles", file, { name, isPublic: "false" });
      add(style);
      pick(style.imageId);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <FieldShell field="styles" label={`Styles${styles.length > 1 ? " · blend" : ""}`}>
      {styles.length === 0 && (
        <p className="mb-2 text-sm text-muted">No style yet — add one or more paintings to blend.</p>
      )}
      <ul className="space-y-2" data-testid="style-list">
        {styles.map((s, i) => {
          const share = blendShare(s.weight, totalWeight - s.weight);
          const name = nameOf(s.imageId, i);
          return (
            <li
              key={s.imageId}
              className="flex items-center gap-3 rounded-xl bg-canvas/70 p-2"
              data-testid="style-item"
            >
              <FramedImage
                id={s.imageId}
                alt={`Style: ${name}`}
                thumb={160}
                className="h-14 w-14 shrink-0 rounded-lg"
              />
              <div className="min-w-0 flex-1">
                <div className="flex items-baseline justify-between gap-2">
                  <span className="truncate text-sm" data-testid={`style-name-${i}`}>
                    {name}
                  </span>
                  {styles.length > 1 && (
                    <span className="text-xs tabular-nums text-muted" aria-hidden="true">
                      {share}%
                    </span>
                  )}
                </div>
                {/* a blend needs two paintings: with one, its weight changes nothing (unless it is 0 and blocks the run) */}
                {(styles.length > 1 || s.weight === 0) && (
                  <BlendWeight
                    id={`${panelId}-w${i}`}
                    name={name}
                    weight={s.weight}
                    othersWeight={totalWeight - s.weight}
                    disabled={!editable}
                    testId={`style-weight-${i}`}
                    onFocus={() => conn.focus("styles")}
                    onBlur={() => conn.focus(null)}
                    commit={(weight) => setStyles(styles.map((x, j) => (j === i ? { ...x, weight } : x)))}
                  />
                )}
              </div>
              {editable && (
                <button
                  type="button"
                  className="btn btn-ghost btn-sm px-2"
                  aria-label={`Remove style ${name}`}
                  onClick={() => setStyles(styles.filter((_, j) => j !== i))}
                  data-testid={`style-remove-${i}`}
                >
                  ✕
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {styles.length > 0 && totalWeight === 0 && (
        <p className="mt-1 text-xs text-danger">Give at least one style a weight above 0.</p>
      )}
      {editable && (
        <div className="mt-2">
          <button
            type="button"
            className="btn btn-secondary btn-sm"
            disabled={full}
            aria-expanded={adding}
            aria-controls={panelId}
            onClick={() => setAdding((a) => !a)}
            data-testid="add-style"
          >
            {full ? `Up to ${MAX_STYLES} styles` : adding ? "Close" : "+ Add a style"}
          </button>
          {adding && (
            <div id={panelId} className="mt-3 space-y-4 rounded-xl border border-line bg-paper p-3">
              <DropZone
                onFile={onFile}
                disabled={busy}
                label={busy ? "Uploading…" : "Upload a painting"}
                hint="Saved to your styles (private)"
                testId="style-upload"
              />
              <Alert message={error} testId="style-upload-error" />
              {lib.status === "loading" && (
                <p className="text-sm text-muted" role="status">
                  Loading the style library…
                </p>
              )}
              {lib.status === "error" && (
                <p role="alert" className="text-sm text-danger">
                  {lib.error}{" "}
                  <button type="button" className="link" onClick={() => void reload()}>
                    Try again
                  </button>
                </p>
              )}
              {lib.data && (
                <>
                  {(
                    [
                      ["My styles", "None yet.", "my-style-choices", lib.data.mine],
                      ["Public styles", "None shared by others yet.", "public-style-choices", lib.data.public],
                    ] as const
                  ).map(([title, empty, testId, choices]) => (
                    <StyleChoiceGroup
                      key={testId}
                      title={title}
                      empty={empty}
                      testId={testId}
                      choices={choices}
                      chosen={styles}
                      onPick={pick}
                    />
                  ))}
                </>
              )}
            </div>
          )}
        </div>
      )}
    </FieldShell>
  );
}
