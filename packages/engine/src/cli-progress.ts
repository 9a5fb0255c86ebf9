/**
 * How the CLI reports iterations: a redrawn progress bar on a terminal, plain periodic lines
 * when stderr is a file or pipe, or one JSON object per iteration on stdout (--json).
 */
import type { EngineInfo, IterationEvent } from "./api.ts";
import type { RunTiming } from "./cli-timing.ts";

export interface ProgressSink {
  iteration(event: IterationEvent, totalIterations: number): void;
  /** Removes any partly drawn line so a following message starts at column 0. */
  clear(): void;
  done(summary: {
    out: string;
    seconds: number;
    timing: RunTiming;
    width: number;
    height: number;
    engine: EngineInfo;
  }): void;
}

export function styleTotal(event: IterationEvent): number {
  return Object.values(event.style).reduce((sum, value) => sum + value, 0);
}

/** 1.234e+5 style for losses that span many orders of magnitude. */
function loss(value: number): string {
  return Number.isFinite(value) ? value.toExponential(3) : String(value);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** Seconds per iteration over the recent window, so the ETA follows the current speed (multi-scale levels differ). */
class Pace {
  private readonly recent: number[] = [];
  add(ms: number): void {
    this.recent.push(ms);
    if (this.recent.length > 20) this.recent.shift();
  }
  secondsPerIteration(): number {
    if (this.recent.length === 0) return Number.NaN;
    return this.recent.reduce((a, b) => a + b, 0) / this.recent.length / 1000;
  }
}

export function jsonSink(write: (line: string) => void): ProgressSink {
  return {
    iteration(event) {
      write(
        JSON.stringify({
          iteration: event.iteration,
          total: event.total,
          content: event.content,
          style: styleTotal(event),
          tv: event.tv,
          ms: Math.round(event.ms * 1000) / 1000,
        }) + "\n",
      );
    },
    clear() {},
    done({ out, seconds, timing, engine }) {
      const ms = (value: number) => Math.round(value * 1000) / 1000;
      write(
        JSON.stringify({
          done: true,
          out,
          backend: engine.backend,
          ...(engine.adapter ? { adapter: engine.adapter } : {}),
          seconds: ms(seconds),
          setupSeconds: ms(timing.setupSeconds),
          iterations: timing.iterations,
          msPerIteration: ms(timing.msPerIteration),
        }) + "\n",
      );
    },
  };
}

/** Most useful first, so a narrow terminal cuts only the loss breakdown. */
function statusText(event: IterationEvent, total: number, pace: Pace): string {
  const spi = pace.secondsPerIteration();
  const eta = formatDuration(spi * Math.max(0, total - event.iteration));
  return (
    `${String(event.iteration).padStart(String(total).length)}/${total}` +
    `  ${spi.toFixed(2)} s/it  ETA ${eta}` +
    `  loss ${loss(event.total)} = content ${loss(event.content)} + style ${loss(styleTotal(event))} + tv ${loss(event.tv)}` +
    `  (${event.width}×${event.height})`
  );
}

/** A single redrawn line on a TTY: [#####-----] 120/1000 loss … s/it ETA. */
export function barSink(stream: NodeJS.WriteStream): ProgressSink {
  const pace = new Pace();
  let drawn = false;
  return {
    iteration(event, total) {
      pace.add(event.ms);
      const columns = stream.columns || 100;
      const text = statusText(event, total, pace);
      const barWidth = 20;
      const filled = Math.round((Math.min(event.iteration, total) / total) * barWidth);
      let line = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${text}`;
      if (line.length >= columns) line = line.slice(0, columns - 1);
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
    done({ out, seconds, width, height }) {
      this.clear();
      stream.write(`atelier: wrote ${out} (${width}×${height}) in ${formatDuration(seconds)}\n`);
    },
  };
}

/** For logs: a line at the first iteration, every ~10 %, and the last. */
export function lineSink(stream: NodeJS.WritableStream): ProgressSink {
  const pace = new Pace();
  return {
    iteration(event, total) {
      pace.add(event.ms);
      const step = Math.max(1, Math.round(total / 10));
      if (event.iteration === 1 || event.iteration % step === 0 || event.iteration >= total) {
        stream.write(`atelier: ${statusText(event, total, pace)}\n`);
      }
    },
    clear() {},
    done({ out, seconds, width, height }) {
      stream.write(`atelier: wrote ${out} (${width}×${height}) in ${formatDuration(seconds)}\n`);
    },
  };
}
