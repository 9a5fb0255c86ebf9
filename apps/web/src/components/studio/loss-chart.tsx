"use client";

import { useMemo } from "react";
import type { IterationStats } from "@atelier/protocol";
import { levelStarts, lossSeriesLabel } from "@/lib/loss-chart";

const W = 560;
const H = 200;
const PAD = { left: 44, right: 12, top: 10, bottom: 22 };
const MAX_POINTS = 400;
const LAYER_COLOURS = ["#b0502a", "#d49a3a", "#7d9a86", "#3c5a75", "#8a5a8c", "#6a6257", "#a1302a", "#2f6f6a"];

/** Evenly thinned indices so a long run stays cheap to draw. */
function sampleIndices(n: number): number[] {
  if (n <= MAX_POINTS) return Array.from({ length: n }, (_, i) => i);
  const step = (n - 1) / (MAX_POINTS - 1);
  return Array.from({ length: MAX_POINTS }, (_, i) => Math.round(i * step));
}

function formatLoss(v: number): string {
  if (!Number.isFinite(v)) return "–";
  return v >= 1e4 || v < 1e-2 ? v.toExponential(1) : v.toPrecision(3);
}

/**
 * Loss over the iterations: the total, and the weighted style loss per VGG layer, on a log
 * scale (losses fall by orders of magnitude). Hand-drawn SVG; redrawn as the history grows.
 * Where a multi-scale run moves up a level the lines break and a dashed mark names the level:
 * the loss jumps there because the image grew, not because the painting got worse.
 */
export function LossChart({ history, testId = "loss-chart" }: { history: IterationStats[]; testId?: string }) {
  const model = useMemo(() => {
    if (history.length === 0) return null;
    const layers = Object.keys(history[history.length - 1]!.style).sort();
    const idx = sampleIndices(history.length);
    const series: Array<{ name: string; colour: string; values: number[]; width: number }> = [
      { name: "total", colour: "#211d18", values: idx.map((i) => history[i]!.total), width: 2.2 },
      ...layers.map((layer, k) => ({
        name: layer,
        colour: LAYER_COLOURS[k % LAYER_COLOURS.length]!,
        values: idx.map((i) => history[i]!.style[layer] ?? NaN),
        width: 1.2,
      })),
    ];
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of series)
      for (const v of s.values)
        if (v > 0 && Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
    if (!Number.isFinite(lo)) return null;
    const [l0, l1] = [Math.floor(Math.log10(lo)), Math.ceil(Math.log10(hi))];
    const span = Math.max(1, l1 - l0);
    const x = (j: number) => PAD.left + (idx.length <= 1 ? 0 : (j / (idx.length - 1)) * (W - PAD.left - PAD.right));
    const y = (v: number) => PAD.top + (1 - (Math.log10(v) - l0) / span) * (H - PAD.top - PAD.bottom);
    const levels = levelStarts(idx.map((i) => history[i]!.scale));
    const breaks = new Set(levels.map((l) => l.at));
    const paths = series.map((s) => {
      let d = "";
      let gap = true;
      s.values.forEach((v, j) => {
        if (!(v > 0) || !Number.isFinite(v)) {
          gap = true;
          return;
        }
        d += `${gap || breaks.has(j) ? "M" : "L"}${x(j).toFixed(1)},${y(v).toFixed(1)}`;
        gap = false;
      });
      return { ...s, d };
    });
    const ticks = Array.from({ length: span + 1 }, (_, k) => l0 + k);
    return {
      paths,
      ticks,
      levels: levels.map((l) => ({ ...l, x: x(l.at) })),
      y: (e: number) => PAD.top + (1 - (e - l0) / span) * (H - PAD.top - PAD.bottom),
      first: history[0]!,
      last: history[history.length - 1]!,
    };
  }, [history]);

  if (!model) {
    return (
      <div
        className="flex h-[200px] items-center justify-center rounded-xl border border-dashed border-line text-sm text-muted"
        data-testid={testId}
        data-points="0"
      >
        The loss curve appears with the first iteration.
      </div>
    );
  }
  const { last } = model;
  return (
    <figure className="m-0" data-testid={testId} data-points={history.length}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-auto w-full"
        role="img"
        aria-label={`Loss curve over ${history.length} iterations${model.levels.length ? `, ${model.levels.length + 1} levels` : ""}; total loss now ${formatLoss(last.total)}`}
      >
        {model.ticks.map((e) => (
          <g key={e}>
            <line x1={PAD.left} x2={W - PAD.right} y1={model.y(e)} y2={model.y(e)} stroke="#e4dccd" strokeWidth={1} />
            <text x={PAD.left - 6} y={model.y(e) + 3.5} textAnchor="end" fontSize={10} fill="#9a9184">
              1e{e}
            </text>
          </g>
        ))}
        <text x={PAD.left} y={H - 6} fontSize={10} fill="#9a9184">
          {model.first.iteration}
        </text>
        <text x={W - PAD.right} y={H - 6} fontSize={10} fill="#9a9184" textAnchor="end">
          iteration {last.iteration}
        </text>
        {model.levels.map((l) => (
          <g key={l.at} data-testid="loss-level-mark">
            <line
              x1={l.x}
              x2={l.x}
              y1={PAD.top}
              y2={H - PAD.bottom}
              stroke="#9a9184"
              strokeWidth={1}
              strokeDasharray="3 3"
            />
            <text x={l.x + 3} y={PAD.top + 9} fontSize={10} fill="#6a6257">
              level {l.level}
            </text>
          </g>
        ))}
        {model.paths
          .slice()
          .reverse()
          .map((p) => (
            <path
              key={p.name}
              d={p.d}
              fill="none"
              stroke={p.colour}
              strokeWidth={p.width}
              strokeLinejoin="round"
              strokeLinecap="round"
            />
          ))}
      </svg>
      <figcaption className="mt-2 flex flex-wrap gap-x-4 gap-y-1 text-xs text-muted">
        {model.paths.map((p) => (
          <span key={p.name} className="inline-flex items-center gap-1.5">
            <span
              aria-hidden="true"
              className="inline-block h-0.5 w-3.5 rounded"
              style={{ background: p.colour, height: p.width }}
            />
            <span title={p.name === "total" ? undefined : `VGG-19 layer ${p.name}`}>{lossSeriesLabel(p.name)}</span>
            <span className="tabular-nums text-faint">
              {formatLoss(p.name === "total" ? last.total : (last.style[p.name] ?? NaN))}
            </span>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
