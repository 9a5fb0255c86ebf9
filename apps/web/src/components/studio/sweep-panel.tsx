"use client";

/* eslint-disable @next/next/no-img-element -- cell frames are object URLs of frames the service sent */
import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  SWEEP_PARAMS,
  formatEstimate,
  type SweepAxis,
  type SweepFrame,
  type SweepInfo,
  type SweepParam,
} from "@atelier/protocol";
import {
  canCancelSweep,
  cellLabel,
  parseSweepValues,
  sweepCancelNotice,
  sweepGoing,
  sweepEstimateSeconds,
  sweepGridHeaders,
  SWEEP_PARAM_LABELS,
} from "@/lib/sweep-form";
import { Alert } from "@/components/alert";
import { useStudio } from "./context";
import { useImageAspect } from "./use-image-aspect";

const STATUS_TEXT: Record<SweepInfo["cells"][number]["status"], string> = {
  queued: "Queued",
  running: "Painting",
  completed: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/**
 * Parameter sweeps: editors pick one or two parameters and 2–4 values each; the grid of small
 * runs fills in live for everyone in the room; "Promote" on a finished cell makes its values
 * the room's and starts the full-size run from its image; its starter and the room's owner may
 * cancel a going sweep.
 */
export function SweepPanel() {
  const { state, conn, editable, me, dispatch } = useStudio();
  const sweep = state.sweep;
  const [error, setError] = useState<string | null>(null);
  // what the last cancel said, for that sweep only (a new sweep's panel starts without it)
  const [notice, setNotice] = useState<{ sweepId: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const going = sweep ? sweepGoing(sweep) : false;
  const cancellable = sweep ? canCancelSweep(sweep, me.userId, state.role) : false;

  async function cancel() {
    if (!sweep) return;
    setBusy(true);
    setError(null);
    setNotice(null);
    const reply = await conn.cancelSweep(sweep.sweepId);
    setBusy(false);
    if (!reply.ok) return setError(reply.error);
    // the room hears it too (sweep:update); shown at once here
    dispatch({ type: "sweep:update", sweep: reply.sweep });
    setNotice({ sweepId: reply.sweep.sweepId, text: sweepCancelNotice(reply.sweep) });
  }

  async function promote(cell: number) {
    if (!sweep) return;
    setBusy(true);
    setError(null);
    const reply = await conn.promote(sweep.sweepId, cell);
    setBusy(false);
    if (!reply.ok) setError(reply.error);
  }

  return (
    <section aria-labelledby="sweep-heading" className="card space-y-3 p-4" data-testid="sweep-panel">
      <h2 id="sweep-heading" className="text-lg">
        Sweep
      </h2>
      <p className="text-sm text-muted">
        Try a few values of one or two settings as small, quick runs side by side, then promote the one you like.
      </p>
      {editable && <SweepForm disabled={going} onError={setError} />}
      <Alert message={error} testId="sweep-error" />
      {notice && notice.sweepId === sweep?.sweepId && (
        <p role="status" className="text-sm text-muted" data-testid="sweep-notice">
          {notice.text}
        </p>
      )}
      {sweep && (
        <div className="space-y-2">
          <div className="flex flex-wrap items-center justify-between gap-2">
            <p className="text-sm" data-testid="sweep-status">
              {sweep.author.name}’s sweep · {sweep.size} px · {sweep.iterations} iterations
              {sweep.queuePosition !== null ? ` · #${sweep.queuePosition} in queue` : ""}
            </p>
            {cancellable && (
              <button
                type="button"
                className="btn btn-secondary px-3 py-1 text-sm"
                disabled={busy}
                onClick={cancel}
                data-testid="sweep-cancel"
              >
                {busy ? "Cancelling…" : "Cancel sweep"}
              </button>
            )}
          </div>
          <SweepGrid sweep={sweep}>
            {sweep.cells.map((cell) => (
              <li
                key={cell.index}
                className="min-w-0 space-y-1 rounded-xl border border-line p-1.5 text-xs"
                data-testid="sweep-cell"
                data-status={cell.status}
              >
                <CellFrame frame={state.sweepFrames[cell.index] ?? null} label={cellLabel(cell.values)} />
                <p className="font-medium">{cellLabel(cell.values)}</p>
                <p className="text-muted">
                  {STATUS_TEXT[cell.status]}
                  {cell.status === "running" ? ` · ${cell.iteration} / ${sweep.iterations}` : ""}
                </p>
                {editable && cell.status === "completed" && (
                  <button
                    type="button"
                    className="btn btn-secondary w-full px-2 py-1 text-xs"
                    disabled={busy}
                    onClick={() => promote(cell.index)}
                  >
                    Promote
                  </button>
                )}
              </li>
            ))}
          </SweepGrid>
        </div>
      )}
    </section>
  );
}

/**
 * The cells under their axes' headers: one column per value of the last axis, and with two axes
 * one row per value of the first, its value at the row's start.
 */
function SweepGrid({ sweep, children }: { sweep: SweepInfo; children: React.ReactNode[] }) {
  const { columns, rows } = sweepGridHeaders(sweep.axes);
  const count = columns?.values.length ?? children.length;
  const template = `${rows ? "auto " : ""}repeat(${count}, minmax(0, 1fr))`;
  return (
    <div className="overflow-x-auto" data-testid="sweep-grid">
      {columns && (
        <p className="mb-1 text-xs text-muted" data-testid="sweep-column-axis">
          {rows ? `${rows.label} ↓ · ` : ""}
          {columns.label} →
        </p>
      )}
      <ol className="grid min-w-[20rem] gap-2" style={{ gridTemplateColumns: template }}>
        {columns && (
          <>
            {rows && <li aria-hidden />}
            {columns.values.map((v) => (
              <li key={v} className="text-center text-xs font-medium tabular-nums" data-testid="sweep-column-head">
                {v}
              </li>
            ))}
          </>
        )}
        {rows
          ? rows.values.flatMap((v, r) => [
              <li
                key={`row-${v}`}
                className="self-center pr-1 text-right text-xs font-medium tabular-nums"
                data-testid="sweep-row-head"
              >
                {v}
              </li>,
              ...children.slice(r * count, (r + 1) * count),
            ])
          : children}
      </ol>
    </div>
  );
}

function CellFrame({ frame, label }: { frame: SweepFrame | null; label: string }) {
  const url = useMemo(
    () => (frame ? URL.createObjectURL(new Blob([frame.data as BlobPart], { type: frame.mime })) : null),
    [frame],
  );
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  return (
    <div className="frame rounded-lg" style={{ aspectRatio: "4 / 3" }}>
      {url ? (
        <img
          src={url}
          alt={label}
          className="absolute inset-0 h-full w-full object-contain"
          data-testid="sweep-thumb"
          data-iteration={frame!.iteration}
          data-final={frame!.mime === "image/png" ? "true" : "false"}
        />
      ) : (
        <span className="absolute inset-0 flex items-center justify-center text-faint">waiting…</span>
      )}
    </div>
  );
}

function SweepForm({ disabled, onError }: { disabled: boolean; onError: (error: string | null) => void }) {
  const { conn } = useStudio();
  const [first, setFirst] = useState<{ param: SweepParam; values: string }>({
    param: "styleWeight",
    values: "10, 1000",
  });
  const [second, setSecond] = useState<{ param: SweepParam | ""; values: string }>({ param: "", values: "" });
  const [size, setSize] = useState(128);
  const [iterations, setIterations] = useState(30);
  const [busy, setBusy] = useState(false);
  const { state, doc } = useStudio();
  const aspect = useImageAspect(doc.contentImageId);
  const cells = [first, second]
    .filter((axis) => axis.param)
    .map((axis) => parseSweepValues(axis.values))
    .reduce((n, parsed) => (parsed.ok ? n * parsed.values.length : 0), 1);
  const estimate =
    cells === 0
      ? "Give each setting 2 to 4 values."
      : `${cells} small runs of ${size} px, one after another${
          state.speed
            ? `: ${formatEstimate(sweepEstimateSeconds(cells, { size, iterations }, state.speed, aspect ?? 1))} here`
            : ""
        }.`;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const axes: SweepAxis[] = [];
    for (const axis of [first, second]) {
      if (!axis.param) continue;
      const parsed = parseSweepValues(axis.values);
      if (!parsed.ok) return onError(`${SWEEP_PARAM_LABELS[axis.param]}: ${parsed.error}`);
      axes.push({ param: axis.param, values: parsed.values });
    }
    setBusy(true);
    onError(null);
    const reply = await conn.sweep({ axes, size, iterations });
    setBusy(false);
    if (!reply.ok) onError(reply.error);
  }

  return (
    <form onSubmit={onSubmit} className="grid gap-2 sm:grid-cols-2" data-testid="sweep-form">
      <ParamChoice
        id="sweep-first"
        label="First setting"
        param={first.param}
        values={first.values}
        onChange={(param, values) => setFirst({ param: param || "styleWeight", values })}
      />
      <ParamChoice
        id="sweep-second"
        label="Second setting (optional)"
        param={second.param}
        values={second.values}
        optional
        onChange={(param, values) => setSecond({ param, values })}
      />
      <label className="text-sm">
        <span className="label">Size (px)</span>
        <input
          className="field"
          type="number"
          min={32}
          max={256}
          value={size}
          onChange={(e) => setSize(Number(e.target.value))}
          data-testid="sweep-size"
        />
      </label>
      <label className="text-sm">
        <span className="label">Iterations</span>
        <input
          className="field"
          type="number"
          min={1}
          max={200}
          value={iterations}
          onChange={(e) => setIterations(Number(e.target.value))}
          data-testid="sweep-iterations"
        />
      </label>
      <p className="text-xs text-muted sm:col-span-2" data-testid="sweep-estimate">
        {estimate}
      </p>
      <button type="submit" className="btn btn-primary sm:col-span-2" disabled={disabled || busy}>
        {busy ? "Queuing…" : disabled ? "A sweep is going" : "Start sweep"}
      </button>
    </form>
  );
}

function ParamChoice({
  id,
  label,
  param,
  values,
  optional = false,
  onChange,
}: {
  id: string;
  label: string;
  param: SweepParam | "";
  values: string;
  optional?: boolean;
  onChange: (param: SweepParam | "", values: string) => void;
}) {
  return (
    <fieldset className="space-y-1 text-sm">
      <legend className="label">{label}</legend>
      <select
        className="field"
        aria-label={`${label}: parameter`}
        value={param}
        onChange={(e) => onChange(e.target.value as SweepParam | "", values)}
        data-testid={`${id}-param`}
      >
        {optional && <option value="">none</option>}
        {SWEEP_PARAMS.map((p) => (
          <option key={p} value={p}>
            {SWEEP_PARAM_LABELS[p]}
          </option>
        ))}
      </select>
      <input
        className="field"
        aria-label={`${label}: values`}
        placeholder="e.g. 10, 100, 1000"
        value={values}
        disabled={!param}
        onChange={(e) => onChange(param, e.target.value)}
        data-testid={`${id}-values`}
      />
    </fieldset>
  );
}
