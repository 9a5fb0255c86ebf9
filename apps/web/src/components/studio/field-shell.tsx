"use client";

import { useId, useState, type ReactNode } from "react";
import type { RoomField } from "@atelier/protocol";
import { useStudio } from "./context";
import { FIELD_HELP } from "./field-help";

/**
 * Wraps one editable field: its label, who is editing it right now (their colour as a ring
 * and a name tag), who changed it last, and whether the change waits for a restart.
 */
export function FieldShell({
  field,
  label,
  htmlFor,
  children,
  hint,
  invalid = false,
}: {
  field: RoomField;
  label: string;
  htmlFor?: string;
  children: ReactNode;
  hint?: ReactNode;
  /** the hint is an error message (announced, in the error colour) */
  invalid?: boolean;
}) {
  const { state, editorsOf, me } = useStudio();
  const help = FIELD_HELP[field];
  const helpId = useId();
  const [helpOpen, setHelpOpen] = useState(false);
  const editors = editorsOf(field);
  const color = editors[0]?.color;
  const last = state.lastChange[field];
  const restart = state.restartNeeded.includes(field);
  return (
    <div
      className="relative rounded-xl p-2 transition-shadow"
      style={color ? { boxShadow: `0 0 0 2px ${color}` } : undefined}
      data-testid={`field-${field}`}
      data-editing-by={editors.map((e) => e.name).join(",") || undefined}
    >
      {editors.length > 0 && (
        <span
          className="absolute -top-2.5 right-2 rounded-full px-2 py-0.5 text-[11px] font-semibold text-white"
          style={{ background: color }}
        >
          {editors.map((e) => e.name).join(", ")}
        </span>
      )}
      <div className="mb-1 flex items-center gap-1">
        {htmlFor ? (
          <label htmlFor={htmlFor} className="text-sm font-medium">
            {label}
          </label>
        ) : (
          <span className="text-sm font-medium">{label}</span>
        )}
        {help && (
          <button
            type="button"
            className="inline-flex h-4 w-4 items-center justify-center rounded-full border border-line text-[10px] leading-none text-muted"
            aria-label={`About ${label}`}
            aria-expanded={helpOpen}
            aria-controls={helpId}
            title={help}
            onClick={() => setHelpOpen((open) => !open)}
          >
            ?
          </button>
        )}
      </div>
      {help && helpOpen && (
        <p id={helpId} className="mb-1 text-xs text-muted" data-testid={`help-${field}`}>
          {help}
        </p>
      )}
      {children}
      {hint &&
        (invalid ? (
          <p className="mt-1 text-xs font-medium text-danger" role="alert">
            {hint}
          </p>
        ) : (
          <p className="mt-1 text-xs text-muted">{hint}</p>
        ))}
      {last && (
        <p className="mt-1 truncate text-[11px] text-faint" data-testid={`changed-by-${field}`}>
          {last.userId === me.userId ? "Changed by you" : `Changed by ${last.name}`}
        </p>
      )}
      {restart && <p className="mt-1 text-xs font-medium text-accent-strong">Takes effect on restart</p>}
    </div>
  );
}
