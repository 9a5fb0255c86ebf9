"use client";

import { useId } from "react";
import { COLOR_CONTROLS, COLOR_CONTROL_LABELS, FIELD_LABELS, effectiveColorControl } from "@atelier/protocol";
import { useStudio } from "./context";
import { FieldShell } from "./field-shell";

export function ColorControlField() {
  const { doc, conn, editable } = useStudio();
  const id = useId();
  return (
    <FieldShell field="colorControl" label={FIELD_LABELS.colorControl} htmlFor={id}>
      <select
        id={id}
        className="field"
        value={effectiveColorControl(doc)}
        disabled={!editable}
        data-testid="param-colorControl"
        onFocus={() => conn.focus("colorControl")}
        onBlur={() => conn.focus(null)}
        onChange={(e) => conn.edit("colorControl", e.target.value)}
      >
        {COLOR_CONTROLS.map((v) => (
          <option key={v} value={v}>
            {COLOR_CONTROL_LABELS[v]}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}
