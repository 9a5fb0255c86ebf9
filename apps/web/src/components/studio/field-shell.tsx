"use client";

import type { ReactNode } from "react";
import type { RoomField } from "@atelier/protocol";
import { useStudio } from "./context";

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
}: {
  field: RoomField;
  label: string;
  htmlFor?: string;
  children: ReactNode;
  hint?: ReactNode;
}) {
  const { state, editorsOf, me } = useStudio();
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
      <div className="mb-1">
        {htmlFor ? (
          <label htmlFor={htmlFor} className="text-sm font-medium">
            {label}
          </label>
        ) : (
          <span className="text-sm font-medium">{label}</span>
        )}
      </div>
      {children}
      {hint && <p className="mt-1 text-xs text-muted">{hint}</p>}
      {last && (
        <p className="mt-1 truncate text-[11px] text-faint" data-testid={`changed-by-${field}`}>
          {last.userId === me.userId ? "Changed by you" : `Changed by ${last.name}`}
        </p>
      )}
      {restart && <p className="mt-1 text-xs font-medium text-accent-strong">Takes effect on restart</p>}
    </div>
  );
}
