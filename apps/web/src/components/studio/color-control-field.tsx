"use client";

import { useId } from "react";
import { COLOR_CONTROLS } from "@atelier/protocol";
import { effectiveColorControl } from "@/lib/color-control";
import { FIELD_LABELS, useStudio } from "./context";
import { FieldShell } from "./field-shell";

type ColorControl = (typeof COLOR_CONTROLS)[number];

const LABELS: Record<ColorControl, string> = {
  none: "Style's colours",
  luminance: "Photo's colours (luminance only)",
  "match-style": "Match style to photo colours (before)",
  "match-result": "Match result to photo colours (after)",
};

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
            {LABELS[v]}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}
