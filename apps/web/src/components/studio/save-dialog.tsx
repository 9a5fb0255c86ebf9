"use client";

import Link from "next/link";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { RunInfo } from "@atelier/protocol";
import { Alert } from "@/components/alert";
import { PublicCheckbox } from "@/components/public-checkbox";
import { useStudio } from "./context";

type SavableRun = Pick<RunInfo, "runId" | "status" | "iteration">;

/**
 * Save a run's image as a result: the room's current run or any run from its history. A run
 * that did not complete is saved from its latest image (the service keeps it).
 */
export function SaveDialog({ run, onClose }: { run: SavableRun; onClose: () => void }) {
  const { conn, state } = useStudio();
  const ref = useRef<HTMLDialogElement>(null);
  const [title, setTitle] = useState(state.name);
  // private unless the author chooses the gallery
  const [isPublic, setIsPublic] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [savedId, setSavedId] = useState<string | null>(null);
  // Only a completed run has a final image; otherwise the freshest image so far is saved.
  const finished = run.status === "completed";

  useEffect(() => {
    const d = ref.current;
    d?.showModal();
    return () => d?.close();
  }, []);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) return setError("Give the result a title.");
    setBusy(true);
    setError(null);
    const reply = await conn.save({ runId: run.runId, title: title.trim(), isPublic, preview: !finished });
    setBusy(false);
    if (!reply.ok) return setError(reply.error);
    setSavedId(reply.resultId);
  }

  return (
    <dialog
      ref={ref}
      onClose={onClose}
      className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-2xl border border-line bg-paper p-0 text-ink backdrop:bg-ink/40"
      data-testid="save-dialog"
      aria-labelledby="save-title"
    >
      {savedId ? (
        <div className="space-y-4 p-6">
          <h2 id="save-title" className="text-2xl">
            Saved
          </h2>
          <p className="text-muted">
            “{title}” is in your results{isPublic ? " and in the gallery" : ""}.
          </p>
          <div className="flex gap-2">
            <Link className="btn btn-primary" href={`/results/${savedId}`} data-testid="open-saved-result">
              Open it
            </Link>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Back to the studio
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={onSubmit} className="space-y-4 p-6">
          <h2 id="save-title" className="text-2xl">
            Save result
          </h2>
          {!finished && (
            <p className="text-sm text-muted">
              The run is {run.status === "running" || run.status === "queued" ? "still going" : run.status}: this saves
              its latest image (iteration {run.iteration}).
            </p>
          )}
          <div>
            <label htmlFor="save-title-input" className="label">
              Title
            </label>
            <input
              id="save-title-input"
              className="field"
              value={title}
              maxLength={120}
              onChange={(e) => setTitle(e.target.value)}
              autoFocus
              data-testid="save-title"
            />
          </div>
          <PublicCheckbox checked={isPublic} onChange={setIsPublic} testId="save-public">
            Public — show it in the gallery
          </PublicCheckbox>
          <Alert message={error} testId="save-error" />
          <div className="flex justify-end gap-2">
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="btn btn-primary" disabled={busy} data-testid="save-submit">
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
