"use client";

import { useId, useRef, useState, type DragEvent, type ReactNode } from "react";
import { FORMAT_OF_MIME } from "@atelier/protocol";

const ACCEPTED_TYPES = Object.keys(FORMAT_OF_MIME).join(",");
/** What an upload may be (storage's default caps; the server's answer names a lower configured cap). */
const UPLOAD_HINT = "JPEG, PNG or WebP · up to 20 MB";

/**
 * A file target: drag-and-drop or the file dialog (it is a real button, so keyboards work).
 * The server checks the content; this only filters the dialog and gives quick feedback.
 */
export function DropZone({
  onFile,
  disabled,
  label,
  hint = UPLOAD_HINT,
  testId,
  children,
  className = "",
}: {
  onFile: (file: File) => void;
  disabled?: boolean;
  label: string;
  hint?: string;
  testId?: string;
  children?: ReactNode;
  className?: string;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const hintId = useId();

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    if (disabled) return;
    const file = e.dataTransfer.files[0];
    if (file) onFile(file);
  }

  return (
    <div
      onDragOver={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      className={`relative rounded-2xl border-2 border-dashed transition-colors ${over ? "border-accent bg-accent-soft/60" : "border-line bg-paper/60 hover:border-faint"} ${className}`}
      data-testid={testId ? `${testId}-zone` : undefined}
    >
      <button
        type="button"
        disabled={disabled}
        onClick={() => input.current?.click()}
        aria-describedby={hint ? hintId : undefined}
        className="flex h-full w-full flex-col items-center justify-center gap-1 rounded-2xl p-5 text-center disabled:cursor-not-allowed disabled:opacity-60"
      >
        {children}
        <span className="text-sm font-medium">{label}</span>
        {hint && (
          <span id={hintId} className="text-xs text-muted">
            {hint}
          </span>
        )}
      </button>
      <input
        ref={input}
        type="file"
        accept={ACCEPTED_TYPES}
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        data-testid={testId}
        onChange={(e) => {
          const file = e.target.files?.[0];
          if (file) onFile(file);
          e.target.value = "";
        }}
      />
    </div>
  );
}

/** Uploads a file as multipart to `url` with extra fields; resolves to the JSON body or throws the server's message. */
export async function uploadFile<T>(url: string, file: File, fields: Record<string, string> = {}): Promise<T> {
  const form = new FormData();
  form.append("file", file);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", body: form });
  } catch {
    throw new Error("The upload did not reach the server. Check your connection and try again.");
  }
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `Upload failed (HTTP ${res.status}).`);
  return body;
}
