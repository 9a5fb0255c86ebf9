"use client";

/* eslint-disable @next/next/no-img-element -- images come from our own content-addressed route, already sized */
import { useEffect, useRef, useState } from "react";
import { FINISHED_STATUSES, type IterationStats, type RunSummary } from "@atelier/protocol";
import { imageUrl } from "@/components/image";
import { runStatusText } from "@/lib/run-display";
import { activityText, runChangesText, runNumber } from "@/lib/run-history";
import { FIELD_LABELS } from "@atelier/protocol";
import { useStudio } from "./context";
import { LossChart } from "./loss-chart";

/**
 * The room's runs as a strip (newest first): each with its image, who started it, what it
 * changed since the run before and its status. From any run: view it (image + chart), restore
 * its settings into the room, or start a new run from its image. The activity line says who did
 * what, for everyone in the room.
 */
export function RunHistory() {
  const { state, conn, editable, me } = useStudio();
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [viewing, setViewing] = useState<{ run: RunSummary; history: IterationStats[] } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
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

  async function view(summary: RunSummary) {
    setError(null);
    const reply = await conn.curve(summary.runId);
    if (!reply.ok) return setError(reply.error);
    setViewing({ run: summary, history: reply.history });
  }

  async function act(kind: "restore" | "continue", summary: RunSummary) {
    setBusy(`${kind}:${summary.runId}`);
    setError(null);
    const reply = kind === "restore" ? await conn.restore(summary.runId) : await conn.start(false, summary.runId);
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
          {activityText(state.lastActivity, runs, me.userId)}
        </p>
      )}
      {error && (
        <p role="alert" className="text-sm text-danger" data-testid="history-error">
          {error}
        </p>
      )}
      <ol className="flex gap-3 overflow-x-auto pb-2">
        {runs.map((summary, index) => {
          const n = runs.length - index;
          const current = summary.runId === run?.runId;
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
                    title={active ? "A run is going: cancel it first" : undefined}
                    onClick={() => act("continue", summary)}
                  >
                    Continue from image
                  </button>
                )}
              </div>
            </li>
          );
        })}
      </ol>
      {viewing && (
        <div className="space-y-2 rounded-xl border border-line p-3" data-testid="history-view">
          <div className="flex items-center justify-between">
            <h3 className="font-serif text-base">
              Run #{runNumber(runs, viewing.run.runId) ?? "?"} by {viewing.run.author.name}
            </h3>
            <button type="button" className="btn btn-ghost px-2 py-1 text-xs" onClick={() => setViewing(null)}>
              Close
            </button>
          </div>
          {viewing.run.finalImageId && (
            <img
              src={imageUrl(viewing.run.finalImageId, 640)}
              alt={`The image run #${runNumber(runs, viewing.run.runId) ?? "?"} left`}
              className="mx-auto max-h-80 w-full max-w-sm rounded-lg object-contain [image-rendering:auto]"
              data-testid="history-view-image"
            />
          )}
          <LossChart history={viewing.history} testId="history-chart" />
        </div>
      )}
    </section>
  );
}
