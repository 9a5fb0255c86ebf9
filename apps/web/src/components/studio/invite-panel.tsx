"use client";

import { useEffect, useId, useRef, useState } from "react";
import type { CreateInviteResponse } from "@atelier/protocol";
import { useStudio } from "./context";
import { Alert } from "@/components/alert";

export function InviteButton() {
  const { state, editable } = useStudio();
  const [open, setOpen] = useState(false);
  if (!editable) return null;
  return (
    <>
      <button
        type="button"
        className="btn btn-secondary btn-sm"
        onClick={() => setOpen(true)}
        data-testid="invite-open"
      >
        Invite
      </button>
      {open && <InviteDialog roomId={state.roomId} onClose={() => setOpen(false)} />}
    </>
  );
}

function InviteDialog({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [role, setRole] = useState<"editor" | "viewer">("editor");
  const [link, setLink] = useState<CreateInviteResponse | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const id = useId();

  useEffect(() => {
    const d = ref.current;
    d?.showModal();
    return () => d?.close();
  }, []);

  async function create() {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const res = await fetch(`/api/rooms/${roomId}/invites`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ role }),
      });
      const body = (await res.json().catch(() => ({}))) as CreateInviteResponse & { error?: string };
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      setLink(body);
    } catch (e) {
      setError(`Could not create a link: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.url);
      setCopied(true);
    } catch {
      setError("Copying is blocked here; select the link and copy it by hand.");
    }
  }

  return (
    <dialog
      ref={ref}
      onClose={onClose}
      className="m-auto w-[min(30rem,calc(100vw-2rem))] rounded-2xl border border-line bg-paper p-0 text-ink backdrop:bg-ink/40"
      aria-labelledby={`${id}-title`}
      data-testid="invite-dialog"
    >
      <div className="space-y-4 p-6">
        <h2 id={`${id}-title`} className="text-2xl">
          Invite to this room
        </h2>
        <fieldset>
          <legend className="label">They join as</legend>
          <div className="flex gap-4 text-sm">
            {(["editor", "viewer"] as const).map((r) => (
              <label key={r} className="flex items-center gap-2">
                <input
                  type="radio"
                  name={`${id}-role`}
                  value={r}
                  checked={role === r}
                  onChange={() => {
                    setRole(r);
                    setLink(null);
                  }}
                  data-testid={`invite-role-${r}`}
                />
                {r === "editor" ? "Editor — can change settings and run" : "Viewer — watches only"}
              </label>
            ))}
          </div>
        </fieldset>
        {link ? (
          <div className="space-y-2">
            <label htmlFor={`${id}-url`} className="label">
              Invite link ({link.role}
              {link.expiresAt ? `, valid until ${new Date(link.expiresAt).toLocaleDateString()}` : ""})
            </label>
            <div className="flex gap-2">
              <input
                id={`${id}-url`}
                readOnly
                className="field font-mono text-xs"
                value={link.url}
                onFocus={(e) => e.target.select()}
                data-testid="invite-link"
              />
              <button type="button" className="btn btn-primary btn-sm" onClick={copy} data-testid="invite-copy">
                {copied ? "Copied" : "Copy"}
              </button>
            </div>
            <p className="text-xs text-muted">Anyone with this link can join after signing in.</p>
          </div>
        ) : (
          <button
            type="button"
            className="btn btn-primary"
            onClick={create}
            disabled={busy}
            data-testid="invite-create"
          >
            {busy ? "Creating…" : "Create link"}
          </button>
        )}
        <Alert message={error} />
        <div className="flex justify-end">
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </dialog>
  );
}
