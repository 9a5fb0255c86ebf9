"use client";

/* eslint-disable @next/next/no-img-element -- images come from our own content-addressed route, already sized */
import { useEffect, useRef, useState } from "react";
import {
  FINISHED_STATUSES,
  formatEstimate,
  renderLargeOffer,
  renderLargeSeconds,
  type IterationStats,
  type RunSummary,
} from "@atelier/protocol";
import { imageUrl } from "@/components/image";
import { runStatusText } from "@/lib/run-display";
import { activityText, downloadSizes, runChangesText, runNumber } from "@/lib/run-history";
import { FIELD_LABELS } from "@atelier/protocol";
import { useStudio } from "./context";
import { CompareSlider } from "./compare-slider";
import { LossChart } from "./loss-chart";
import { SaveDialog } from "./save-dialog";

/**
 * The room's runs as a strip (newest first): each with its image, who started it, what it
 * changed since the run before and its status. From any run: view it (image + chart), restore
 * its settings into the room, or start a new run from its image. The activity line says who did
 * what, for everyone in the room.
 */
export function RunHistory({ onCount }: { onCount?: (runs: number) => void }) {
  const { state, conn, editable, me } = useStudio();
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [viewing, setViewing] = useState<{ run: RunSummary; history: IterationStats[] } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [saving, setSaving] = useState<RunSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const connRef = useRef(conn);
  useEffect(() => {
    connRef.current = conn;
  }, [conn]);

  const run = state.run;
  const active = run !== null && !FINISHED_STATUSES.includes(run.status);
  // the strip is re-read when a run appears or ends, and after someone's history action
  const refreshKey = `${state.status}:${run?.runId ?? ""}:${active}:${state.lastActivity?.at ?? 0}`;
  useEffect(() => {
    if (!refreshKey.startsWith("joined:")) return;
    let cancelled = false;
    void connRef.current.history().then((reply) => {
      if (!cancelled && reply.ok) setRuns(reply.runs);
    });
    return () => {
      cancelled = true;
    };
  }, [refreshKey]);

  useEffect(() => onCount?.(runs.length), [onCount, runs.length]);

  async function view(summary: RunSummary) {
    setError(null);
    const reply = await conn.curve(summary.runId);
    if (!reply.ok) return setError(reply.error);
    setViewing({ run: summary, history: reply.history });
  }

  async function act(kind: "restore" | "continue" | "large", summary: RunSummary, size?: number) {
    setBusy(`${kind}:${summary.runId}`);
    setError(null);
    const reply =
      kind === "restore"
        ? await conn.restore(summary.runId)
        : await conn.start(false, summary.runId, kind === "large" && size ? { size } : undefined);
    setBusy(null);
    if (!reply.ok) setError(reply.error);
  }

  if (runs.length === 0 && !state.lastActivity) return null;
  return (
    <section aria-labelledby="history-heading" className="card space-y-3 p-4" data-testid="run-history">
      <h2 id="history-heading" className="text-lg">
        History
      </h2>
      {state.lastActivity && (
        <p className="text-sm text-accent-strong" role="status" data-testid="room-activity">
          {activityText(state.lastActivity, runs, me.userId, state.sweep)}
        </p>
      )}
      {error && (
        <p role="alert" className="text-sm text-danger" data-testid="history-error">
          {error}
        </p>
      )}
      {/* scrolls inside itself: any number of runs never widens the page */}
      <ol className="flex gap-3 overflow-x-auto overscroll-x-contain pb-2" data-testid="history-strip">
        {runs.map((summary, index) => {
          const n = runs.length - index;
          const current = summary.runId === run?.runId;
          // "Render large": the next offered size above the painting's, within the operator's cap
          const large =
            summary.status === "completed" && summary.finalImageId && state.limits
              ? renderLargeOffer(summary.params.size, state.limits.maxSize)
              : null;
          const larger = downloadSizes(runs, summary).slice(1);
          return (
            <li
              key={summary.runId}
              className={`w-44 shrink-0 space-y-1.5 rounded-xl border p-2 text-xs ${current ? "border-accent" : "border-line"}`}
              data-testid="history-item"
              data-run-id={summary.runId}
            >
              <div className="frame rounded-lg" style={{ aspectRatio: "4 / 3" }}>
                {summary.finalImageId ? (
                  <img
                    src={imageUrl(summary.finalImageId, 160)}
                    alt={`Run #${n}`}
                    className="absolute inset-0 h-full w-full object-cover"
                    loading="lazy"
                  />
                ) : (
                  <span className="absolute inset-0 flex items-center justify-center text-faint">no image</span>
                )}
              </div>
              <p className="font-medium">
                #{n} · {summary.author.name} · <span data-testid="history-status">{runStatusText(summary, null)}</span>
              </p>
              <p className="line-clamp-2 text-muted" data-testid="history-changes">
                {runChangesText(runs, index, FIELD_LABELS)}
              </p>
              {summary.resumedFromId && runNumber(runs, summary.resumedFromId) !== null && (
                <p className="text-muted">from #{runNumber(runs, summary.resumedFromId)}</p>
              )}
              <div className="flex flex-wrap gap-1">
                <button type="button" className="btn btn-ghost px-2 py-1 text-xs" onClick={() => view(summary)}>
                  View
                </button>
                {editable && (
                  <button
                    type="button"
                    className="btn btn-ghost px-2 py-1 text-xs"
                    disabled={busy !== null}
                    onClick={() => act("restore", summary)}
                  >
                    Restore settings
                  </button>
                )}
                {editable && summary.finalImageId && (
                  <button
                    type="button"
                    className="btn btn-ghost px-2 py-1 text-xs"
                    disabled={busy !== null || active}
                    title={
                      active
                        ? "A run is going: cancel it first"
                        : "A new run that goes on from this painting at its own size, with the room's settings"
                    }
                    onClick={() => act("continue", summary)}
                  >
                    Continue from image
                  </button>
                )}
                {summary.finalImageId && (
                  <a
                    className="btn btn-ghost px-2 py-1 text-xs"
                    href={downloadUrl(summary.finalImageId)}
                    download={downloadName(state.name, n)}
                    data-testid="history-download"
                  >
                    Download
                  </a>
                )}
                {larger.map(({ size, imageId }) => (
                  <a
                    key={imageId}
                    className="btn btn-ghost px-2 py-1 text-xs"
                    href={downloadUrl(imageId)}
                    download={downloadName(state.name, n, size)}
                    data-testid="history-download-large"
                  >
                    Download {size} px
                  </a>
                ))}
                {editable && large !== null && (
                  <button
                    type="button"
                    className="btn btn-ghost px-2 py-1 text-xs"
                    disabled={busy !== null || active}
                    title={
                      active
                        ? "A run is going: cancel it first"
                        : `Paints this run again at ${large} px: its own settings, only the finest level, from this painting enlarged (the room's settings stay as they are)`
                    }
                    onClick={() => act("large", summary, large)}
                    data-testid="history-render-large"
                  >
                    Render {large} px
                    {state.speed && ` · ${formatEstimate(renderLargeSeconds(summary.params, large, state.speed))}`}
                  </button>
                )}
                {editable && summary.finalImageId && (
                  <button
                    type="button"
                    className="btn btn-ghost px-2 py-1 text-xs"
                    onClick={() => setSaving(summary)}
                    data-testid="history-save"
                  >
                    Save
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ol>
      {viewing && (
        <HistoryView
          viewing={viewing}
          runs={runs}
          roomName={state.name}
          onClose={() => setViewing(null)}
          onSave={editable ? setSaving : undefined}
        />
      )}
      {saving && <SaveDialog run={saving} onClose={() => setSaving(null)} />}
    </section>
  );
}

/** The full image as a PNG (the route converts it); the link's download attribute names the file. */
function downloadUrl(imageId: string): string {
  return `${imageUrl(imageId)}?format=png`;
}

function downloadName(roomName: string, n: number, size?: number): string {
  return `${roomName.replace(/[^\w-]+/g, "-").toLowerCase() || "atelier"}-run-${n}${size ? `-${size}px` : ""}.png`;
}

type ViewMode = "painting" | "photo" | "ab";

/** One run up close: its image, photo vs painting, or A/B against another run; its loss chart. */
function HistoryView({
  viewing,
  runs,
  roomName,
  onClose,
  onSave,
}: {
  viewing: { run: RunSummary; history: IterationStats[] };
  runs: RunSummary[];
  roomName: string;
  onClose: () => void;
  onSave?: (run: RunSummary) => void;
}) {
  const { run } = viewing;
  const n = runNumber(runs, run.runId) ?? 0;
  const others = runs.filter((r) => r.runId !== run.runId && r.finalImageId);
  const [mode, setMode] = useState<ViewMode>("painting");
  const [otherId, setOtherId] = useState<string | null>(null);
  const other = others.find((r) => r.runId === otherId) ?? others[0] ?? null;
  const modes: Array<[ViewMode, string, boolean]> = [
    ["painting", "Painting", true],
    ["photo", "Photo ↔ painting", Boolean(run.finalImageId)],
    ["ab", "Compare runs", Boolean(run.finalImageId && other)],
  ];
  return (
    <div className="space-y-2 rounded-xl border border-line p-3" data-testid="history-view">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="font-serif text-base">
          Run #{n || "?"} by {run.author.name}
        </h3>
        <div className="flex flex-wrap gap-1">
          {run.finalImageId && (
            <a
              className="btn btn-ghost px-2 py-1 text-xs"
              href={downloadUrl(run.finalImageId)}
              download={downloadName(roomName, n)}
            >
              Download
            </a>
          )}
          {onSave && run.finalImageId && (
            <button type="button" className="btn btn-ghost px-2 py-1 text-xs" onClick={() => onSave(run)}>
              Save
            </button>
          )}
          <button type="button" className="btn btn-ghost px-2 py-1 text-xs" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
      {run.finalImageId && (
        <div role="group" aria-label="How to show it" className="flex flex-wrap gap-1">
          {modes
            .filter(([, , available]) => available)
            .map(([id, label]) => (
              <button
                key={id}
                type="button"
                aria-pressed={mode === id}
                className={`btn btn-sm px-2 py-1 text-xs ${mode === id ? "btn-primary" : "btn-ghost"}`}
                onClick={() => setMode(id)}
                data-testid={`history-mode-${id}`}
              >
                {label}
              </button>
            ))}
          {mode === "ab" && other && (
            <select
              className="field w-auto py-1 text-xs"
              aria-label="Compare with"
              value={other.runId}
              onChange={(e) => setOtherId(e.target.value)}
              data-testid="history-compare-with"
            >
              {others.map((r) => (
                <option key={r.runId} value={r.runId}>
                  Run #{runNumber(runs, r.runId) ?? "?"}
                </option>
              ))}
            </select>
          )}
        </div>
      )}
      {run.finalImageId && mode === "painting" && (
        <img
          src={imageUrl(run.finalImageId, 640)}
          alt={`The image run #${n || "?"} left`}
          className="mx-auto max-h-80 w-full max-w-sm rounded-lg object-contain [image-rendering:auto]"
          data-testid="history-view-image"
        />
      )}
      {run.finalImageId && mode === "photo" && (
        <CompareSlider
          before={{ src: imageUrl(run.params.contentImageId, 640), label: "Photo" }}
          after={{ src: imageUrl(run.finalImageId, 640), label: `Run #${n}` }}
          testId="compare-photo"
        />
      )}
      {run.finalImageId && mode === "ab" && other?.finalImageId && (
        <CompareSlider
          before={{ src: imageUrl(other.finalImageId, 640), label: `Run #${runNumber(runs, other.runId) ?? "?"}` }}
          after={{ src: imageUrl(run.finalImageId, 640), label: `Run #${n}` }}
          testId="compare-runs"
        />
      )}
      <LossChart history={viewing.history} testId="history-chart" />
    </div>
  );
}
