/**
 * The run queue's policy, free of IO so it can be tested alone: at most `concurrency` jobs run
 * at once, a user never has two jobs running at the same time, and free slots go round-robin
 * between users (the user served longest ago goes first; FIFO within one user).
 */
export interface QueueJob {
  id: string;
  userId: string;
}

export class FairQueue<J extends QueueJob> {
  private readonly waiting: J[] = [];
  private readonly running = new Map<string, J>();
  /** userId → serial number of the last time one of their jobs started */
  private readonly lastServed = new Map<string, number>();
  private serial = 0;

  /**
   * `served`: when each user was last served (higher = more recent), carried over from an
   * earlier queue (the cluster dispatcher rebuilds its queue from the database each time).
   */
  constructor(
    private readonly concurrency: number,
    served?: ReadonlyMap<string, number>,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new Error(`concurrency must be ≥ 1, got ${concurrency}`);
    for (const [userId, serial] of served ?? []) {
      this.lastServed.set(userId, serial);
      this.serial = Math.max(this.serial, serial);
    }
  }

  /** Counts a job that is already running (started by an earlier queue) against its slot and its user. */
  adopt(job: J): void {
    if (this.has(job.id)) throw new Error(`job ${job.id} is already queued`);
    this.running.set(job.id, job);
  }

  /** When each user was last served, for the next queue built from the same state. */
  served(): Map<string, number> {
    return new Map(this.lastServed);
  }

  get size(): { waiting: number; running: number; concurrency: number } {
    return { waiting: this.waiting.length, running: this.running.size, concurrency: this.concurrency };
  }

  enqueue(job: J): void {
    if (this.has(job.id)) throw new Error(`job ${job.id} is already queued`);
    this.waiting.push(job);
  }

  has(jobId: string): boolean {
    return this.running.has(jobId) || this.waiting.some((j) => j.id === jobId);
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /** Removes a waiting job (e.g. cancelled before it started); returns it, or undefined. */
  removeWaiting(jobId: string): J | undefined {
    const i = this.waiting.findIndex((j) => j.id === jobId);
    if (i < 0) return undefined;
    return this.waiting.splice(i, 1)[0];
  }

  /** Marks a running job as done, freeing its slot and its user. */
  finish(jobId: string): J | undefined {
    const job = this.running.get(jobId);
    this.running.delete(jobId);
    return job;
  }

  /** Starts as many jobs as the free slots and the per-user rule allow; returns them in start order. */
  takeReady(): J[] {
    const started: J[] = [];
    while (this.running.size < this.concurrency) {
      const busyUsers = new Set([...this.running.values()].map((j) => j.userId));
      const next = pickNext(this.waiting, this.lastServed, busyUsers);
      if (!next) break;
      this.waiting.splice(this.waiting.indexOf(next), 1);
      this.running.set(next.id, next);
      this.lastServed.set(next.userId, ++this.serial);
      started.push(next);
    }
    return started;
  }

  runningJobs(): J[] {
    return [...this.running.values()];
  }

  /**
   * The waiting jobs in the order they are expected to start: the round-robin replayed on
   * the current queue (a user's later jobs interleave with the other users' jobs).
   */
  waitingOrder(): J[] {
    const pending = [...this.waiting];
    const served = new Map(this.lastServed);
    let serial = this.serial;
    const order: J[] = [];
    while (pending.length > 0) {
      const next = pickNext(pending, served, new Set())!;
      pending.splice(pending.indexOf(next), 1);
      served.set(next.userId, ++serial);
      order.push(next);
    }
    return order;
  }
}

/** The first waiting job of the least recently served user who has no job running. */
function pickNext<J extends QueueJob>(
  waiting: J[],
  lastServed: Map<string, number>,
  busyUsers: Set<string>,
): J | undefined {
  let best: J | undefined;
  let bestServed = Infinity;
  const seen = new Set<string>();
  for (const job of waiting) {
    if (seen.has(job.userId) || busyUsers.has(job.userId)) continue;
    seen.add(job.userId); // only a user's oldest job competes
    const served = lastServed.get(job.userId) ?? 0;
    if (served < bestServed) {
      best = job;
      bestServed = served;
    }
  }
  return best;
}

/**
 * Seconds until each waiting job starts, given how long the running jobs still need, the
 * number of slots and each waiting job's expected duration (null: unknown → the result is
 * null from then on). Greedy: each job takes the slot that frees first.
 */
export function estimateStartTimes(
  runningRemaining: number[],
  concurrency: number,
  waitingDurations: (number | null)[],
): (number | null)[] {
  const slots = [...runningRemaining];
  while (slots.length < concurrency) slots.push(0);
  const starts: (number | null)[] = [];
  let unknown = false;
  for (const duration of waitingDurations) {
    if (unknown) {
      starts.push(null);
      continue;
    }
    slots.sort((a, b) => a - b);
    const start = slots[0]!;
    starts.push(start);
    if (duration === null) unknown = true;
    else slots[0] = start + duration;
  }
  return starts;
}
