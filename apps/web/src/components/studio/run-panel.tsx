"use client";

import Link from "next/link";
import { useState } from "react";
import { FINISHED_STATUSES, runParams } from "@atelier/protocol";
import { secondsPerIteration } from "@/lib/room-store";
import { runStatusText } from "@/lib/run-display";
import { FIELD_LABELS } from "@atelier/protocol";
import { useStudio } from "./context";
import { useNotifyPreference } from "./use-run-watch";
import { SaveDialog } from "./save-dialog";
import { useShortcuts } from "./use-shortcuts";
import { Alert } from "@/components/alert";

function formatEta(seconds: number | null): string | null {
  if (seconds === null || !Number.isFinite(seconds)) return null;
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${Math.floor(m / 60)} h`;
}

export function RunPanel({
  canvasRef,
  painted,
}: {
  canvasRef: React.RefObject<HTMLCanvasElement | null>;
  /** the size of the pixels the canvas holds (of this run or an earlier one), null while empty */
  painted: { width: number; height: number } | null;
}) {
  const { state, doc, conn, editable } = useStudio();
  const run = state.run;
  // a viewer can never start, cancel or save: no faded buttons for them, only Download
  const viewer = state.role === "viewer";
  const active = run !== null && !FINISHED_STATUSES.includes(run.status);
  const [busy, setBusy] = useState<null | "start" | "cancel" | "restart">(null);
  const [error, setError] = useState<string | null>(null);
  const [saveOpen, setSaveOpen] = useState(false);
  const ready = runParams.safeParse(doc);
  const notReady = ready.success
    ? null
    : !doc.contentImageId
      ? "Choose a content photo first."
      : doc.styles.length === 0
        ? "Add at least one style."
        : (ready.error.issues[0]?.message ?? "The settings are not complete.");
  const spi = secondsPerIteration(state.history);

  async function act(kind: "start" | "cancel" | "restart") {
    setBusy(kind);
    setError(null);
    const reply = kind === "cancel" ? await conn.cancel() : await conn.start(kind === "restart");
    if (!reply.ok) setError(reply.error);
    setBusy(null);
  }

  useShortcuts((action) => {
    if (!editable || busy !== null) return false;
    if (action === "start" && !active && !notReady) {
      void act("start");
      return true;
    }
    if (action === "cancel" && active) {
      if (window.confirm("Cancel the run? The painting so far stays in the history.")) void act("cancel");
      return true;
    }
    return false;
  });

  const progress = run && run.iterations > 0 ? Math.min(1, run.iteration / run.iterations) : 0;
  const eta = run ? formatEta(run.etaSeconds) : null;

  return (
    <section aria-labelledby="run-heading" className="space-y-4">
      <h2 id="run-heading" className="sr-only">
        Run
      </h2>
      <div className="flex flex-wrap items-center gap-3">
        {!active && !viewer && (
          <button
            type="button"
            className="btn btn-primary"
            disabled={!editable || !!notReady || busy !== null}
            onClick={() => act("start")}
            data-testid="run-start"
          >
            {busy === "start" ? "Starting…" : run ? "Start again" : "Start painting"}
          </button>
        )}
        {active && !viewer && state.restartNeeded.length > 0 && (
          <button
            type="button"
            className="btn btn-primary"
            disabled={!editable || !!notReady || busy !== null}
            onClick={() => act("restart")}
            data-testid="run-restart"
          >
            {busy === "restart" ? "Restarting…" : "Restart with changes"}
          </button>
        )}
        {active && !viewer && (
          <button
            type="button"
            className="btn btn-secondary"
            disabled={!editable || busy !== null}
            onClick={() => act("cancel")}
            data-testid="run-cancel"
          >
            {busy === "cancel" ? "Cancelling…" : "Cancel"}
          </button>
        )}
        {run && !viewer && (
          <button
            type="button"
            className="btn btn-secondary"
            disabled={!editable || run.status === "queued" || run.status === "failed" || run.iteration === 0}
            onClick={() => setSaveOpen(true)}
            data-testid="save-result"
          >
            Save result
          </button>
        )}
        <DownloadButton canvasRef={canvasRef} size={painted} name={state.name} />
        <NotifyToggle />
      </div>
      {!active && notReady && editable && (
        <p className="text-sm text-muted" data-testid="run-not-ready">
          {notReady}
        </p>
      )}
      <Alert message={error} testId="run-error" />
      {active && state.restartNeeded.length > 0 && (
        <p className="text-sm text-accent-strong" data-testid="restart-needed">
          Changed since this run started: {state.restartNeeded.map((f) => FIELD_LABELS[f]).join(", ")}. Restart to apply
          them — the run continues from its current image.
        </p>
      )}

      <div aria-live="polite" className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <Stat label="Status" testId="run-status">
          {runStatusText(run, busy === "start" || busy === "restart" ? busy : null)}
        </Stat>
        <Stat label="Iteration" testId="iteration-counter">
          <span className="tabular-nums">{run ? `${run.iteration} / ${run.iterations}` : "–"}</span>
        </Stat>
        <Stat label="Speed" testId="seconds-per-iteration">
          <span className="tabular-nums">{spi !== null ? `${spi.toFixed(2)} s/iter` : "–"}</span>
        </Stat>
        <Stat label={run?.status === "queued" ? "Starts in" : "Time left"} testId="run-eta">
          {run?.status === "queued" ? (
            <span data-testid="queue-position">
              #{run.queuePosition ?? "?"} in queue{eta ? ` · ~${eta}` : ""}
            </span>
          ) : active && eta ? (
            `~${eta}`
          ) : (
            "–"
          )}
        </Stat>
      </div>
      <div
        className="h-1.5 overflow-hidden rounded-full bg-line"
        role="progressbar"
        aria-label="Run progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(progress * 100)}
      >
        <div
          className="h-full rounded-full bg-accent transition-[width] duration-500"
          style={{ width: `${progress * 100}%` }}
        />
      </div>
      {run?.status === "failed" && run.error && (
        <p role="alert" className="text-sm text-danger">
          The run failed: {run.error}
        </p>
      )}
      {state.lastSaved && (
        <p className="text-sm text-ok" role="status" data-testid="saved-notice">
          {state.lastSaved.byName} saved “{state.lastSaved.title}” ({state.lastSaved.isPublic ? "public" : "private"}) —{" "}
          <Link className="link" href={`/results/${state.lastSaved.resultId}`}>
            open it
          </Link>
        </p>
      )}
      {saveOpen && run && <SaveDialog run={run} onClose={() => setSaveOpen(false)} />}
    </section>
  );
}

/** Opt-in: a browser notification when a run this page watched ends while the person looks elsewhere. */
function NotifyToggle() {
  const [on, set] = useNotifyPreference();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        aria-pressed={on}
        data-testid="notify-toggle"
        title="A browser notification when the run ends, if this tab is not in front"
        onClick={() => void set(!on).then(setError)}
      >
        {on ? "🔔 Notifying when done" : "🔕 Notify me when done"}
      </button>
      {error && (
        <span role="alert" className="text-xs text-danger">
          {error}
        </span>
      )}
    </>
  );
}

function Stat({ label, children, testId }: { label: string; children: React.ReactNode; testId: string }) {
  return (
    <div className="rounded-xl border border-line bg-paper px-3 py-2">
      <p className="text-[11px] uppercase tracking-wider text-faint">{label}</p>
      <p className="mt-0.5 text-sm font-medium break-words" data-testid={testId}>
        {children}
      </p>
    </div>
  );
}

/** Saves the canvas as it is, and says at what size (the painting's own: a coarse level is smaller). */
function DownloadButton({
  canvasRef,
  size,
  name,
}: {
  canvasRef: React.RefObject<HTMLCanvasElement | null>;
  size: { width: number; height: number } | null;
  name: string;
}) {
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <button
        type="button"
        className="btn btn-ghost"
        disabled={!size}
        data-testid="download-png"
        onClick={() => {
          const canvas = canvasRef.current;
          if (!canvas || canvas.width <= 4) return setError("Nothing painted yet.");
          canvas.toBlob((blob) => {
            if (!blob) return setError("Could not encode the image.");
            const a = document.createElement("a");
            a.href = URL.createObjectURL(blob);
            a.download = `${name.replace(/[^\w-]+/g, "-").toLowerCase() || "atelier"}.png`;
            a.click();
            setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
          }, "image/png");
        }}
      >
        Download PNG
        {size && (
          <span className="tabular-nums text-muted" data-testid="download-size">
            {" "}
            · {size.width} × {size.height}
          </span>
        )}
      </button>
      {error && (
        <span role="alert" className="text-xs text-danger">
          {error}
        </span>
      )}
    </>
  );
}
