/**
 * The plumbing of a run handle: its events as an append-only log that every iterator walks
 * from the start (so a late consumer misses nothing), and promises settled from outside.
 */
import type { IterationEvent } from "./api.ts";

export class EventLog {
  private readonly events: IterationEvent[] = [];
  private finished = false;
  private failure: unknown = null;
  private wake: (() => void)[] = [];

  push(event: IterationEvent): void {
    this.events.push(event);
    this.notify();
  }

  end(error?: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = error ?? null;
    this.notify();
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const w of waiting) w();
  }

  iterator(): AsyncIterator<IterationEvent> {
    let index = 0;
    return {
      next: async (): Promise<IteratorResult<IterationEvent>> => {
        for (;;) {
          const event = this.events[index];
          if (event) {
            index++;
            return { value: event, done: false };
          }
          if (this.finished) {
            if (this.failure !== null)
              throw this.failure instanceof Error ? this.failure : new Error("the run failed", { cause: this.failure });
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => this.wake.push(resolve));
        }
      },
      return: async (): Promise<IteratorResult<IterationEvent>> => {
        index = Number.POSITIVE_INFINITY; // a consumer that breaks out does not stop the run
        return { value: undefined, done: true };
      },
    };
  }
}

export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are for whoever awaits; never an unhandled rejection
  return { promise, resolve, reject };
}
