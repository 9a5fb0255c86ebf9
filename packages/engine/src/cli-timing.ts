/**
 * Where a CLI run's wall-clock time went: the one-time setup (backend, weights, graphs,
 * targets) before the first iteration started, then the iterations. A mean taken over the
 * whole run (`seconds ÷ iterations`) counts the setup as iteration time and, at 100
 * iterations, can double the figure; a mean of the events' own `ms` leaves out what happens
 * between iterations (progress output, checkpoints, the yield to the event loop). This counts
 * the wall clock from the start of the first iteration to the end of the last.
 */
export interface RunTiming {
  /** from the start of the command to the start of the first iteration */
  setupSeconds: number;
  iterations: number;
  /** wall-clock per optimiser iteration (one objective evaluation + the step), all included */
  msPerIteration: number;
}

export class RunClock {
  private firstStart: number | null = null;
  private lastEnd = 0;
  private count = 0;

  /** `started`: performance.now() when the command started */
  constructor(private readonly started: number) {}

  /** An iteration event arrived at `now` (performance.now()); `ms` is the time the iteration itself reported. */
  iteration(now: number, ms: number): void {
    this.firstStart ??= now - ms;
    this.lastEnd = now;
    this.count++;
  }

  /** The split so far; with no iteration yet, everything is setup. */
  timing(now: number): RunTiming {
    if (this.firstStart === null)
      return { setupSeconds: (now - this.started) / 1000, iterations: 0, msPerIteration: 0 };
    return {
      setupSeconds: (this.firstStart - this.started) / 1000,
      iterations: this.count,
      msPerIteration: (this.lastEnd - this.firstStart) / this.count,
    };
  }
}
