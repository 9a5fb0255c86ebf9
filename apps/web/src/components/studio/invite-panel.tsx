"use client";

import { useCallback, useEffect, useId, useRef, useState } from "react";
import type { CreateInviteResponse, InviteInfo, ListInvitesResponse } from "@atelier/protocol";
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
      {open && <InviteDialog roomId={state.roomId} isOwner={state.role === "owner"} onClose={() => setOpen(false)} />}
    </>
  );
}

/** The room's invite links that still work, or null when the server would not list them. */
async function fetchInvites(roomId: string): Promise<InviteInfo[] | null> {
  const res = await fetch(`/api/rooms/${roomId}/invites`);
  return res.ok ? ((await res.json()) as ListInvitesResponse).invites : null;
}

function InviteDialog({ roomId, isOwner, onClose }: { roomId: string; isOwner: boolean; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  // only the owner hands out editing rights
  const roles = isOwner ? (["editor", "viewer"] as const) : (["viewer"] as const);
  const [role, setRole] = useState<"editor" | "viewer">(roles[0]);
  const [singleUse, setSingleUse] = useState(false);
  const [invites, setInvites] = useState<InviteInfo[] | null>(null);
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

  // Only owners see the list of links; state is set from the fetch's callbacks, never during the effect itself.
  const loadInvites = useCallback(() => {
    if (!isOwner) return Promise.resolve();
    return fetchInvites(roomId).then(
      (list) => {
        if (list) setInvites(list);
      },
      () => setError("Could not load the room's invite links."),
    );
  }, [isOwner, roomId]);

  useEffect(() => {
    void loadInvites();
  }, [loadInvites]);

  async function revoke(token: string) {
    setError(null);
    const res = await fetch(`/api/rooms/${roomId}/invites/${encodeURIComponent(token)}`, { method: "DELETE" });
    if (!res.ok && res.status !== 404) setError(`Could not revoke the link (HTTP ${res.status}).`);
    if (link?.token === token) setLink(null);
    await loadInvites();
  }

  async function create() {
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const res = await fetch(`/api/rooms/${roomId}/invites`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ role, maxUses: singleUse ? 1 : null }),
      });
      const body = (await res.json().catch(() => ({}))) as CreateInviteResponse & { error?: string };
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      setLink(body);
      await loadInvites();
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
            {roles.map((r) => (
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
        <label className="flex items-center gap-2 text-sm">
          <input
            type="checkbox"
            checked={singleUse}
            onChange={(e) => {
              setSingleUse(e.target.checked);
              setLink(null);
            }}
            data-testid="invite-single-use"
          />
          Single use — the link works for one person only
        </label>
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
            <p className="text-xs text-muted">
              {link.maxUses === 1
                ? "One person can join with this link after signing in."
                : "Anyone with this link can join after signing in, until it expires."}
            </p>
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
        {isOwner && invites && invites.length > 0 && (
          <div className="space-y-2" data-testid="invite-list">
            <p className="label">Links that still work</p>
            <ul className="space-y-1 text-sm">
              {invites.map((i) => (
                <li key={i.token} className="flex items-center justify-between gap-2">
                  <span>
                    {i.role} · by {i.createdBy.name} · until {new Date(i.expiresAt ?? 0).toLocaleDateString()}
                    {i.maxUses !== null ? ` · ${i.uses}/${i.maxUses} used` : ""}
                  </span>
                  <button
                    type="button"
                    className="btn btn-ghost btn-sm"
                    onClick={() => void revoke(i.token)}
                    data-testid="invite-revoke"
                  >
                    Revoke
                  </button>
                </li>
              ))}
            </ul>
          </div>
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
