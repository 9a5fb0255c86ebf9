"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import type { LikeResponse } from "@atelier/protocol";
import { Alert } from "@/components/alert";
import { authPagePath } from "@/lib/paths";

/**
 * State shared by the actions of a result page: busy and error, and `signedInOrRedirect()`, which
 * sends a signed-out visitor to sign in (coming back to the result) instead of acting.
 */
function useResultAction(resultId: string, signedIn: boolean) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const router = useRouter();
  const signedInOrRedirect = () => {
    if (!signedIn) router.push(authPagePath("signin", `/results/${resultId}`));
    return signedIn;
  };
  return { busy, setBusy, error, setError, router, signedInOrRedirect };
}

export function LikeButton({
  resultId,
  initialLiked,
  initialCount,
  signedIn,
}: {
  resultId: string;
  initialLiked: boolean;
  initialCount: number;
  signedIn: boolean;
}) {
  const [state, setState] = useState({ liked: initialLiked, count: initialCount });
  const { busy, setBusy, error, setError, signedInOrRedirect } = useResultAction(resultId, signedIn);

  async function toggle() {
    if (!signedInOrRedirect()) return;
    const want = !state.liked;
    setBusy(true);
    setError(null);
    setState((s) => ({ liked: want, count: s.count + (want ? 1 : -1) })); // optimistic
    try {
      const res = await fetch(`/api/results/${resultId}/like`, { method: want ? "PUT" : "DELETE" });
      if (!res.ok)
        throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
      const body = (await res.json()) as LikeResponse;
      setState({ liked: body.liked, count: body.likeCount });
    } catch (e) {
      setState((s) => ({ liked: !want, count: s.count + (want ? -1 : 1) }));
      setError(`Could not save your like: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div>
      <button
        type="button"
        onClick={toggle}
        disabled={busy}
        aria-pressed={state.liked}
        className={`btn ${state.liked ? "btn-primary" : "btn-secondary"}`}
        data-testid="like-button"
      >
        <span aria-hidden="true">{state.liked ? "♥" : "♡"}</span>
        {state.liked ? "Liked" : "Like"}
        <span className="tabular-nums" data-testid="like-count">
          {state.count}
        </span>
      </button>
      <Alert className="mt-2 text-sm" message={error} />
    </div>
  );
}

export function RemixButton({ resultId, signedIn }: { resultId: string; signedIn: boolean }) {
  const { busy, setBusy, error, setError, router, signedInOrRedirect } = useResultAction(resultId, signedIn);
  async function remix() {
    if (!signedInOrRedirect()) return;
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/results/${resultId}/remix`, { method: "POST" });
      const body = (await res.json().catch(() => ({}))) as { room?: { id: string }; error?: string };
      if (!res.ok || !body.room) throw new Error(body.error ?? `HTTP ${res.status}`);
      router.push(`/rooms/${body.room.id}`);
    } catch (e) {
      setError(`Could not remix: ${(e as Error).message}`);
      setBusy(false);
    }
  }
  return (
    <div>
      <button type="button" className="btn btn-secondary" onClick={remix} disabled={busy} data-testid="remix-button">
        {busy ? "Opening a room…" : "Remix in a new room"}
      </button>
      <Alert className="mt-2 text-sm" message={error} />
    </div>
  );
}

/** Copies the result page's address; where the clipboard is not allowed, shows it to copy by hand. */
export function CopyLinkButton() {
  const [state, setState] = useState<"idle" | "copied" | { manual: string }>("idle");
  return (
    <div className="flex flex-col gap-1">
      <button
        type="button"
        className="btn btn-ghost"
        data-testid="copy-link"
        onClick={async () => {
          const url = window.location.href;
          try {
            await navigator.clipboard.writeText(url);
            setState("copied");
            setTimeout(() => setState("idle"), 2500);
          } catch {
            setState({ manual: url });
          }
        }}
      >
        {state === "copied" ? "Link copied" : "Copy link"}
      </button>
      {typeof state === "object" && (
        <input
          className="field text-xs"
          readOnly
          value={state.manual}
          aria-label="Link to this result"
          onFocus={(e) => e.currentTarget.select()}
          autoFocus
        />
      )}
    </div>
  );
}
