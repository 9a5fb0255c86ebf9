"use client";

import {
  RUN_PRESETS,
  estimateRunSeconds,
  formatEstimate,
  runSecondsLeft,
  presetChanges,
  presetWithinLimits,
  type SpeedModel,
} from "@atelier/protocol";
import { useStudio } from "./context";
import { BACKEND_HELP } from "./field-help";
import { useImageAspect } from "./use-image-aspect";

/** Where the speed behind an estimate comes from, in words. */
function speedSource(speed: SpeedModel): string {
  return speed.source === "measured"
    ? `measured on this server's ${speed.backend} backend over ${speed.runs} finished run${speed.runs === 1 ? "" : "s"}`
    : `the reference speed of the ${speed.backend} backend (no run has finished here yet)`;
}

/**
 * Quick / Balanced / Full size, each with what it would take here, and the estimate of the
 * room's current settings before anyone presses Start, for the content photo's shape (a square
 * until it is known: an upper bound) plus the wait for the runs ahead in the queue — all from the
 * one time function (protocol runSecondsLeft) the service's "time left" uses too.
 */
export function RunEstimate() {
  const { doc, conn, editable, state } = useStudio();
  const speed = state.speed;
  const current = { size: doc.size, iterations: doc.iterations, multiscale: doc.multiscale };
  const aspect = useImageAspect(doc.contentImageId);
  return (
    <div className="space-y-2 px-2 pb-2" data-testid="run-estimate">
      <div role="group" aria-label="Presets" className="flex flex-wrap gap-1">
        {RUN_PRESETS.map((preset) => {
          const target = presetWithinLimits(preset, state.limits);
          const changes = presetChanges(current, target);
          const active = Object.keys(changes).length === 0;
          const estimate = speed ? formatEstimate(estimateRunSeconds(target, speed, aspect ?? 1)) : null;
          return (
            <button
              key={preset.id}
              type="button"
              className={`btn btn-sm ${active ? "btn-primary" : "btn-ghost"}`}
              aria-pressed={active}
              disabled={!editable}
              data-testid={`preset-${preset.id}`}
              title={`${target.size} px, ${target.iterations} iterations${target.multiscale ? ", coarse to fine" : ""}`}
              onClick={() => {
                for (const [field, value] of Object.entries(changes)) conn.edit(field as keyof typeof changes, value);
              }}
            >
              {preset.label}
              {estimate && <span className="ml-1 text-xs opacity-80">· {estimate}</span>}
            </button>
          );
        })}
      </div>
      <p className="text-xs text-muted" data-testid="estimate-current">
        {speed ? (
          <>
            This run:{" "}
            <strong className="text-ink">
              {formatEstimate(
                runSecondsLeft(current, speed, { aspect: aspect ?? 1, queueWaitSeconds: speed.queueWaitSeconds }),
              )}
            </strong>
            {speed.queueWaitSeconds
              ? ` (${formatEstimate(speed.queueWaitSeconds)} of it waiting for the runs ahead)`
              : ""}
            {aspect === null ? " at most (for a square photo)" : ""} on this server, from {speedSource(speed)}{" "}
            <abbr title={BACKEND_HELP} className="cursor-help">
              (what is a backend?)
            </abbr>
            .{doc.multiscale && " The first preview comes from a small first level within seconds."}
          </>
        ) : (
          "Estimated time appears once the room is connected."
        )}
      </p>
    </div>
  );
}
