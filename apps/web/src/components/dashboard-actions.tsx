"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { createRoomBody } from "@atelier/protocol";
import { Alert } from "@/components/alert";

export function CreateRoomForm() {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const router = useRouter();

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const parsed = createRoomBody.safeParse({ name });
    if (!parsed.success) {
      setError(parsed.error.issues[0]!.message);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/rooms", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(parsed.data),
      });
      const body = (await res.json().catch(() => ({}))) as { room?: { id: string }; error?: string };
      if (!res.ok || !body.room) throw new Error(body.error ?? `HTTP ${res.status}`);
      router.push(`/rooms/${body.room.id}`);
    } catch (err) {
      setError(`Could not create the room: ${(err as Error).message}`);
      setBusy(false);
    }
  }

  return (
    <form onSubmit={onSubmit} className="flex flex-col gap-2 sm:flex-row sm:items-start" data-testid="create-room-form">
      <div className="flex-1">
        <label htmlFor="room-name" className="sr-only">
          Room name
        </label>
        <input
          id="room-name"
          className="field"
          placeholder="Name a new room, e.g. “Tübingen by night”"
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setError(null);
          }}
          aria-invalid={!!error}
          aria-describedby="room-name-error"
          maxLength={80}
          data-testid="room-name-input"
        />
        {error && (
          <p id="room-name-error" role="alert" className="mt-1.5 text-sm text-danger">
            {error}
          </p>
        )}
      </div>
      <button type="submit" className="btn btn-primary" disabled={busy} data-testid="create-room">
        {busy ? "Creating…" : "Create room"}
      </button>
    </form>
  );
}

export function DeleteRoomButton({ roomId, roomName }: { roomId: string; roomName: string }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const router = useRouter();

  async function remove() {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/rooms/${roomId}`, { method: "DELETE" });
      if (!res.ok)
        throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <div className="flex flex-col items-end gap-1">
      {confirming ? (
        <div className="flex gap-2" role="group" aria-label={`Confirm deleting ${roomName}`}>
          <button
            type="button"
            className="btn btn-danger btn-sm"
            onClick={remove}
            disabled={busy}
            data-testid="confirm-delete-room"
          >
            {busy ? "Deleting…" : "Delete"}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(false)} disabled={busy}>
            Keep
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="btn btn-ghost btn-sm"
          onClick={() => setConfirming(true)}
          aria-label={`Delete room ${roomName}`}
          data-testid="delete-room"
        >
          Delete
        </button>
      )}
      <Alert message={error} className="max-w-64 text-right text-xs" />
    </div>
  );
}
