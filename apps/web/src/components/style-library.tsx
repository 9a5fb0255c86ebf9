"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import type { StyleInfo } from "@atelier/protocol";
import { DropZone, uploadFile } from "./drop-zone";
import { FramedImage } from "./image";
import { Alert } from "@/components/alert";
import { PublicCheckbox } from "@/components/public-checkbox";

function nameFromFile(file: File): string {
  return (
    file.name
      .replace(/\.[a-z0-9]+$/i, "")
      .replace(/[-_]+/g, " ")
      .trim()
      .slice(0, 80) || "Untitled style"
  );
}

export function StyleUploadForm() {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [isPublic, setIsPublic] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const router = useRouter();

  function choose(f: File) {
    setError(null);
    setFile(f);
    if (preview) URL.revokeObjectURL(preview);
    setPreview(URL.createObjectURL(f));
    if (!name) setName(nameFromFile(f));
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!file) {
      setError("Choose a painting to upload first.");
      return;
    }
    if (!name.trim()) {
      setError("Give the style a name.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await uploadFile("/api/styles", file, { name, isPublic: String(isPublic) });
      setFile(null);
      if (preview) URL.revokeObjectURL(preview);
      setPreview(null);
      setName("");
      setIsPublic(false);
      router.refresh();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      onSubmit={onSubmit}
      className="card grid gap-6 p-5 sm:grid-cols-[14rem_1fr] sm:p-6"
      data-testid="style-upload-form"
    >
      <DropZone
        onFile={choose}
        disabled={busy}
        label={file ? "Choose another image" : "Drop a painting here or browse"}
        testId="style-file"
        className="min-h-44"
      >
        {preview ? (
          // eslint-disable-next-line @next/next/no-img-element
          <img src={preview} alt="The painting you chose" className="mb-2 h-24 w-full rounded-lg object-contain" />
        ) : (
          <svg
            aria-hidden="true"
            width="34"
            height="34"
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.5"
            className="mb-1 text-faint"
          >
            <rect x="3" y="4" width="18" height="16" rx="2" />
            <circle cx="9" cy="10" r="1.8" />
            <path d="m3 17 5-5 4 4 3-3 6 6" />
          </svg>
        )}
      </DropZone>
      <div className="flex flex-col gap-4">
        <div>
          <label htmlFor="style-name" className="label">
            Name
          </label>
          <input
            id="style-name"
            className="field"
            value={name}
            onChange={(e) => setName(e.target.value)}
            maxLength={80}
            placeholder="e.g. The Starry Night"
            data-testid="style-name"
          />
        </div>
        <PublicCheckbox checked={isPublic} onChange={setIsPublic} testId="style-public">
          Public — anyone can paint with it (only share images you have the rights to)
        </PublicCheckbox>
        <Alert message={error} testId="style-upload-error" />
        <div>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="style-upload-submit">
            {busy ? "Uploading…" : "Add to my styles"}
          </button>
        </div>
      </div>
    </form>
  );
}

export function StyleTile({ style, editable }: { style: StyleInfo; editable: boolean }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const router = useRouter();

  async function call(method: "PATCH" | "DELETE", body?: unknown) {
    setBusy(true);
    setError(null);
    try {
      const res = await fetch(`/api/styles/${style.id}`, {
        method,
        headers: body ? { "content-type": "application/json" } : undefined,
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok)
        throw new Error(((await res.json().catch(() => ({}))) as { error?: string }).error ?? `HTTP ${res.status}`);
      router.refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  }

  return (
    <li className="group" data-testid="style-item">
      <FramedImage id={style.imageId} alt={`Style: ${style.name}`} thumb={320} ratio="1 / 1" className="rounded-xl" />
      <div className="mt-2 flex items-start justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate font-medium">{style.name}</p>
          <p className="text-xs text-muted">
            {editable ? (style.isPublic ? "public" : "private") : `by ${style.ownerName}`}
          </p>
        </div>
      </div>
      {editable && (
        <div className="mt-1 -ml-2 flex flex-wrap">
          <button
            type="button"
            className="btn btn-ghost btn-sm px-2"
            disabled={busy}
            onClick={() => call("PATCH", { isPublic: !style.isPublic })}
            aria-label={`${style.isPublic ? "Unpublish" : "Publish"} ${style.name}`}
          >
            {style.isPublic ? "Unpublish" : "Publish"}
          </button>
          {confirming ? (
            <>
              <button
                type="button"
                className="btn btn-danger btn-sm px-2"
                disabled={busy}
                onClick={() => call("DELETE")}
                data-testid="confirm-delete-style"
              >
                Delete
              </button>
              <button type="button" className="btn btn-ghost btn-sm px-2" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button
              type="button"
              className="btn btn-ghost btn-sm px-2"
              disabled={busy}
              onClick={() => setConfirming(true)}
              aria-label={`Delete style ${style.name}`}
              data-testid="delete-style"
            >
              Delete
            </button>
          )}
        </div>
      )}
      <Alert message={error} className="mt-1 text-xs" />
    </li>
  );
}
