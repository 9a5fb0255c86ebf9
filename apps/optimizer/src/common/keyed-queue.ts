/**
 * One promise chain per key: tasks of the same key run one after another in the order they were
 * queued, tasks of different keys do not wait for each other. The gateway keeps one for mask
 * strokes (each computed from the layers the one before left) and the run service one for a
 * room's start/restart/cancel (each awaits the database and workers).
 */
export class KeyedQueue {
  /** keys with a task queued or in progress: the tail of each key's chain */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Whether a task of the key is queued or in progress. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }

  /**
   * Runs `task` after every task of the key queued before it; resolves or rejects as `task` does.
   * A task that rejects does not hold up the next one.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // the key is forgotten once its last task settled, so idle keys hold no memory
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
