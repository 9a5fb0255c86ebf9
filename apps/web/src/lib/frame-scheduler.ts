/*
 * Latest-frame-wins drawing of preview frames. Decoding and drawing a frame takes time; when
 * frames arrive faster than that, only the newest waiting frame is worth drawing — older ones
 * are dropped, so the preview never lags behind the run. Plain TS (no DOM) so it is testable:
 * the caller supplies `draw` (createImageBitmap + drawImage in the browser).
 */

export interface Frame {
  runId: string;
  iteration: number;
}

interface FrameSchedulerStats {
  drawn: number;
  dropped: number;
  failed: number;
}

export interface FrameScheduler<F extends Frame> {
  /** Offer a frame; it is drawn now, or later if drawing is busy and nothing newer arrives first. */
  push(frame: F): void;
  /** Resolves when nothing is being drawn or waiting. */
  idle(): Promise<void>;
  stats(): FrameSchedulerStats;
  /** Stop drawing; frames pushed afterwards are ignored. */
  dispose(): void;
}

export function createFrameScheduler<F extends Frame>(
  draw: (frame: F) => Promise<void>,
  onError?: (error: unknown, frame: F) => void,
): FrameScheduler<F> {
  let waiting: F | null = null;
  let busy = false;
  let disposed = false;
  let lastDrawn: { runId: string; iteration: number } | null = null;
  let idleWaiters: Array<() => void> = [];
  const counters: FrameSchedulerStats = { drawn: 0, dropped: 0, failed: 0 };

  // Frames of the same run never go backwards (an old frame arriving late is dropped).
  const isOutdated = (f: F) => lastDrawn !== null && lastDrawn.runId === f.runId && f.iteration < lastDrawn.iteration;

  async function pump(): Promise<void> {
    busy = true;
    while (waiting && !disposed) {
      const frame = waiting;
      waiting = null;
      if (isOutdated(frame)) {
        counters.dropped++;
        continue;
      }
      try {
        await draw(frame);
        lastDrawn = { runId: frame.runId, iteration: frame.iteration };
        counters.drawn++;
      } catch (error) {
        counters.failed++;
        onError?.(error, frame);
      }
    }
    busy = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  return {
    push(frame) {
      if (disposed) return;
      if (waiting) counters.dropped++;
      waiting = frame;
      if (!busy) void pump();
    },
    idle() {
      if (!busy && !waiting) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    stats: () => ({ ...counters }),
    dispose() {
      disposed = true;
      if (waiting) counters.dropped++;
      waiting = null;
    },
  };
}
