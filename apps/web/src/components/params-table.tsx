import type { RunParams } from "@atelier/protocol";

const fmt = (n: number) => (Math.abs(n) >= 0.01 || n === 0 ? String(Number(n.toPrecision(4))) : n.toExponential(1));

export function ParamsTable({ params }: { params: RunParams }) {
  const rows: Array<[string, string]> = [
    ["Size", `${params.size} px (longest side)`],
    ["Iterations", String(params.iterations)],
    ["Optimiser", params.optimizer === "lbfgs" ? "L-BFGS" : `Adam (learning rate ${fmt(params.learningRate)})`],
    ["Content weight", fmt(params.contentWeight)],
    ["Style weight", fmt(params.styleWeight)],
    ["TV weight", fmt(params.tvWeight)],
    ["Style scale", fmt(params.styleScale)],
    ["Original colours", params.originalColors ? "yes" : "no"],
    ["Init", params.init],
    ["Seed", String(params.seed)],
    ["Pooling", params.pooling],
    ["Multi-scale", params.multiscale ? "yes" : "no"],
    ["Content layers", params.contentLayers.join(", ")],
    ["Style layers", params.styleLayers.join(", ")],
  ];
  return (
    <dl className="mt-3 grid grid-cols-[auto_1fr] gap-x-6 gap-y-1.5 text-sm" data-testid="result-params">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-muted">{k}</dt>
          <dd className="tabular-nums">{v}</dd>
        </div>
      ))}
    </dl>
  );
}
