"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { acceptInviteResponse } from "@atelier/protocol";
import { Alert } from "@/components/alert";

/**
 * The signed-in visitor's "Join" on an invite page: a POST (JSON, so it passes the same CSRF
 * checks as every other write), then into the room. Opening the link alone joins nothing.
 */
export function InviteJoinButton({ token }: { token: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const router = useRouter();

  async function join() {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/invites/${encodeURIComponent(token)}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const body: unknown = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error((body as { error?: string }).error ?? `HTTP ${res.status}`);
      const joined = acceptInviteResponse.parse(body);
      router.push(`/rooms/${joined.roomId}?joined=${joined.role}`);
    } catch (e) {
      setError(`Could not join: ${(e as Error).message}`);
      setBusy(false);
    }
  }

  return (
    <div>
      <button
        type="button"
        className="btn btn-primary"
        disabled={busy}
        onClick={() => void join()}
        data-testid="invite-join"
      >
        {busy ? "Joining…" : "Join"}
      </button>
      <Alert message={error} className="mt-4 text-sm" testId="invite-join-error" />
    </div>
  );
}
