"use client";

import { useId, useState, type ReactNode } from "react";
import { decideNumberDraft } from "@/lib/field-commit";
import { FIELD_HELP } from "./field-help";
import { RunEstimate } from "./run-estimate";
import { useCommitter } from "./use-committer";
import { MAX_ITERATIONS, MAX_SIZE, MIN_SIZE, type RoomDocument, type RoomField } from "@atelier/protocol";
import { FIELD_LABELS } from "@atelier/protocol";
import { useStudio } from "./context";
import { FieldShell } from "./field-shell";
import { UndoButtons } from "./shortcut-help";
import { ColorControlField } from "./color-control-field";

type NumericField = { [K in RoomField]: RoomDocument[K] extends number ? K : never }[RoomField];

/** Focus/blur tell the room which field I am editing (shown in my colour to the others). */
function useFocusProps(field: RoomField) {
  const { conn } = useStudio();
  return { onFocus: () => conn.focus(field), onBlur: () => conn.focus(null) };
}

/**
 * A number committed like people expect: the text is a local draft until Enter, blur or a short
 * pause (field-commit.ts), so typing "1000" sends one edit, not 1, 10, 100 and 1000 to a running
 * job. An intermediate text ("1e", "") stays local; blur shows the room's value again.
 */
function NumberField({
  field,
  step,
  min,
  max,
  hint,
  action,
}: {
  field: NumericField;
  step?: number | "any";
  min?: number;
  max?: number;
  hint?: string;
  action?: ReactNode;
}) {
  const { doc, conn, editable } = useStudio();
  const id = useId();
  const value = doc[field];
  const [draft, setDraft] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const committer = useCommitter<number>();
  const focus = useFocusProps(field);
  return (
    <FieldShell
      field={field}
      label={FIELD_LABELS[field]}
      htmlFor={id}
      hint={invalid ?? hint}
      invalid={Boolean(invalid)}
    >
      <div className="flex items-center gap-1">
        <input
          id={id}
          type="number"
          inputMode="decimal"
          className="field tabular-nums"
          step={step}
          min={min}
          max={max}
          disabled={!editable}
          value={draft ?? String(value)}
          aria-invalid={invalid ? true : undefined}
          data-testid={`param-${field}`}
          onFocus={focus.onFocus}
          onKeyDown={(e) => {
            if (e.key === "Enter") committer.flush();
          }}
          onBlur={() => {
            committer.flush();
            setDraft(null);
            setInvalid(null);
            focus.onBlur();
          }}
          onChange={(e) => {
            setDraft(e.target.value);
            const decision = decideNumberDraft(field, e.target.value, value);
            setInvalid(decision.kind === "invalid" ? decision.error : null);
            if (decision.kind === "send") committer.schedule(decision.value, (v) => conn.edit(field, v));
            else committer.cancel();
          }}
        />
        {action}
      </div>
    </FieldShell>
  );
}

/**
 * A slider with its value. Dragging moves a local value; the room gets it on release (pointer
 * up, key up, blur) or when the hand rests (IDLE_COMMIT_MS), so a drag is one change, not fifty.
 */
function RangeField({
  field,
  min,
  max,
  step,
  format,
}: {
  field: "size" | "styleScale";
  min: number;
  max: number;
  step: number;
  format: (v: number) => string;
}) {
  const { doc, conn, editable } = useStudio();
  const id = useId();
  const focus = useFocusProps(field);
  const [dragged, setDragged] = useState<number | null>(null);
  const committer = useCommitter<number>();
  const current = doc[field];
  const value = dragged ?? doc[field];
  const release = () => {
    committer.flush();
    setDragged(null);
  };
  return (
    <FieldShell field={field} label={FIELD_LABELS[field]} htmlFor={id}>
      <div className="flex items-center gap-3">
        <input
          id={id}
          type="range"
          min={min}
          max={max}
          step={step}
          value={value}
          disabled={!editable}
          className="min-w-0 flex-1"
          aria-valuetext={format(value)}
          data-testid={`param-${field}`}
          onFocus={focus.onFocus}
          onBlur={() => {
            release();
            focus.onBlur();
          }}
          onPointerUp={release}
          onKeyUp={release}
          onChange={(e) => {
            const next = Number(e.target.value);
            setDragged(next);
            committer.schedule(next, (v) => {
              if (v !== current) conn.edit(field, v);
            });
          }}
        />
        <output htmlFor={id} className="w-20 text-right text-sm tabular-nums">
          {format(value)}
        </output>
      </div>
    </FieldShell>
  );
}

function SelectField<F extends "optimizer" | "init" | "pooling">({
  field,
  options,
}: {
  field: F;
  options: Array<[RoomDocument[F], string]>;
}) {
  const { doc, conn, editable } = useStudio();
  const id = useId();
  const focus = useFocusProps(field);
  return (
    <FieldShell field={field} label={FIELD_LABELS[field]} htmlFor={id}>
      <select
        id={id}
        className="field"
        value={doc[field]}
        disabled={!editable}
        data-testid={`param-${field}`}
        {...focus}
        onChange={(e) => conn.edit(field, e.target.value)}
      >
        {options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

function ToggleField({ field, description }: { field: "multiscale"; description: string }) {
  const { doc, conn, editable } = useStudio();
  const id = useId();
  const focus = useFocusProps(field);
  return (
    <FieldShell field={field} label={FIELD_LABELS[field]}>
      <label htmlFor={id} className="flex cursor-pointer items-center gap-2 text-sm text-muted">
        <input
          id={id}
          type="checkbox"
          checked={doc[field]}
          disabled={!editable}
          data-testid={`param-${field}`}
          {...focus}
          onChange={(e) => conn.edit(field, e.target.checked)}
        />
        {description}
      </label>
    </FieldShell>
  );
}

function SeedField() {
  const { conn, editable } = useStudio();
  return (
    <NumberField
      field="seed"
      step={1}
      min={0}
      action={
        <button
          type="button"
          className="btn btn-ghost btn-sm shrink-0 px-2"
          disabled={!editable}
          onClick={() => conn.edit("seed", Math.floor(Math.random() * 2_147_483_647))}
          aria-label="New random seed"
          title="New random seed"
        >
          ⟳
        </button>
      }
    />
  );
}

export function ParamPanel() {
  const { doc, state, history, editable } = useStudio();
  const [advanced, setAdvanced] = useState(false);
  // the optimiser's operator caps (it refuses runs above them)
  const maxSize = Math.min(MAX_SIZE, 1024, state.limits?.maxSize ?? MAX_SIZE);
  const maxIterations = Math.min(MAX_ITERATIONS, state.limits?.maxIterations ?? MAX_ITERATIONS);
  return (
    <section aria-labelledby="params-heading" className="space-y-1">
      <div className="flex items-center justify-between gap-2 px-2">
        <h2 id="params-heading" className="text-lg">
          Settings
        </h2>
        <UndoButtons history={history} disabled={!editable} />
      </div>
      <RunEstimate />
      <RangeField field="size" min={Math.max(MIN_SIZE, 64)} max={maxSize} step={32} format={(v) => `${v} px`} />
      <NumberField
        field="iterations"
        step={10}
        min={1}
        max={maxIterations}
        hint={`Can change while running: the run stops at the new count. This server's limits: ${maxIterations} iterations, ${maxSize} px.`}
      />
      <div className="grid grid-cols-2 gap-x-1">
        <NumberField field="contentWeight" step="any" min={0} />
        <NumberField field="styleWeight" step="any" min={0} />
      </div>
      <div className="grid grid-cols-2 gap-x-1">
        <NumberField field="tvWeight" step="any" min={0} />
        <SelectField
          field="optimizer"
          options={[
            ["lbfgs", "L-BFGS"],
            ["adam", "Adam"],
          ]}
        />
      </div>
      {doc.optimizer === "adam" && <NumberField field="learningRate" step="any" min={0} />}
      <RangeField field="styleScale" min={0.1} max={4} step={0.05} format={(v) => `× ${v.toFixed(2)}`} />
      <div className="grid grid-cols-2 gap-x-1">
        <SelectField
          field="init"
          options={[
            ["noise", "Noise"],
            ["content", "Content photo"],
            ["style", "Style image"],
          ]}
        />
        <SeedField />
      </div>
      {/* one control for colours: the select ("Photo's brightness only" is what the older
          "Keep the photo's colours" checkbox did; the select shows a room's flag as that choice) */}
      <ColorControlField />
      <ToggleField field="multiscale" description="Paint coarse to fine (first preview in seconds)" />
      <button
        type="button"
        className="btn btn-ghost btn-sm mx-2"
        aria-expanded={advanced}
        onClick={() => setAdvanced((a) => !a)}
      >
        {advanced ? "Hide" : "Show"} advanced
      </button>
      {advanced && (
        <div>
          <SelectField
            field="pooling"
            options={[
              ["max", "Max pooling"],
              ["avg", "Average pooling"],
            ]}
          />
          <p className="px-2 text-xs text-muted">
            Content layer {doc.contentLayers.join(", ")} · style layers {doc.styleLayers.join(", ")}
          </p>
          <p className="px-2 text-xs text-faint" data-testid="layers-help">
            {FIELD_HELP.styleLayers} {FIELD_HELP.contentLayers}
          </p>
        </div>
      )}
    </section>
  );
}
