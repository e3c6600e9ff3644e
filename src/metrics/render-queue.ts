/**
 * Runs page renders (generators that yield between small units of work) a slice at a time, so a render of
 * a large snapshot never holds the event loop for long, and shows each result whole when it is complete.
 * One render at a time; renders are shown in the order their snapshots arrived, never an older over a
 * newer one.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Snapshot } from '../snapshot.js';
import { drainSteps } from './family.js';

export type RenderSteps<T> = Generator<void, T, undefined>;

export interface RenderQueueOptions<T> {
  readonly render: (snapshot: Snapshot) => RenderSteps<T>;
  /** Swaps a finished render in. Called synchronously when its last step ran; never for a superseded one. */
  readonly show: (result: T) => void;
  /** How long one slice may run before the queue yields to the event loop (ms). */
  readonly sliceMs: number;
  /** Default performance.now. */
  readonly now?: () => number;
  /** One turn of the event loop; default setImmediate. Tests inject a controllable one. */
  readonly yieldTurn?: () => Promise<unknown>;
}

/**
 * What became of a scheduled snapshot. `shown`: its page is served now. `superseded`: a newer snapshot
 * arrived before its render started, or one rendered with renderNow() was shown first; it is never
 * shown. `closed`: close() came first. `failed`: the render threw; the previous page stays.
 */
export type ScheduleOutcome<T> =
  | { readonly status: 'shown'; readonly result: T }
  | { readonly status: 'superseded' | 'closed' }
  | { readonly status: 'failed'; readonly error: unknown };

interface Job<T> {
  readonly snapshot: Snapshot;
  /** Arrival order: a render is shown only if nothing that arrived later was shown before it. */
  readonly seq: number;
  readonly settle: (outcome: ScheduleOutcome<T>) => void;
}

const SUPERSEDED = { status: 'superseded' } as const;
const CLOSED = { status: 'closed' } as const;

export class RenderQueue<T> {
  private readonly options: RenderQueueOptions<T>;
  private readonly now: () => number;
  private readonly yieldTurn: () => Promise<unknown>;
  private arrived = 0;
  private shownSeq = 0;
  /** At most one snapshot waits; a newer one replaces it (the page only needs the latest). */
  private waiting: Job<T> | null = null;
  private busy = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: RenderQueueOptions<T>) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
    this.yieldTurn = options.yieldTurn ?? (() => nextTurn());
  }

  /**
   * Renders `snapshot` in one go and shows it (tests, callers that want the page now). It counts as the
   * newest arrival: a render in progress is abandoned and a waiting snapshot dropped. Throws what the
   * render throws, leaving the previous page.
   */
  renderNow(snapshot: Snapshot): T {
    const seq = ++this.arrived;
    const result = drainSteps(this.options.render(snapshot));
    this.showIfNewest(seq, result);
    return result;
  }

  /**
   * Renders `snapshot` a slice at a time and shows it when complete. The first slice runs before this
   * returns (a small page is shown at once). While another render runs, the snapshot waits, replacing any
   * snapshot already waiting. Never rejects.
   */
  schedule(snapshot: Snapshot): Promise<ScheduleOutcome<T>> {
    if (this.closed) return Promise.resolve(CLOSED);
    return new Promise((settle) => {
      const job: Job<T> = { snapshot, seq: ++this.arrived, settle };
      if (this.busy) {
        this.waiting?.settle(SUPERSEDED);
        this.waiting = job;
        return;
      }
      this.busy = true;
      void this.drive(job);
    });
  }

  /** Resolves once no render runs and none waits. */
  idle(): Promise<void> {
    return this.busy ? new Promise((resolve) => this.idleWaiters.push(resolve)) : Promise.resolve();
  }

  /** Stops rendering: the render in progress is abandoned at its next step, nothing more starts. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting?.settle(CLOSED);
    this.waiting = null;
    return this.idle();
  }

  private async drive(first: Job<T>): Promise<void> {
    let job: Job<T> | null = first;
    while (job !== null) {
      job.settle(await this.run(job));
      job = this.waiting;
      this.waiting = null;
      // A fresh turn before the next render: the last slice may have used its whole budget.
      if (job !== null) await this.yieldTurn();
    }
    // Synchronously with finding nothing waiting: a schedule() from here on starts a new drive.
    this.busy = false;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async run(job: Job<T>): Promise<ScheduleOutcome<T>> {
    const steps = this.options.render(job.snapshot);
    try {
      let deadline = this.now() + this.options.sliceMs;
      for (;;) {
        if (this.closed) return CLOSED;
        if (job.seq < this.shownSeq) return SUPERSEDED;
        const step = steps.next();
        if (step.done === true) {
          this.showIfNewest(job.seq, step.value);
          return { status: 'shown', result: step.value };
        }
        if (this.now() >= deadline) {
          await this.yieldTurn();
          deadline = this.now() + this.options.sliceMs;
        }
      }
    } catch (error) {
      return { status: 'failed', error };
    }
  }

  private showIfNewest(seq: number, result: T): void {
    if (seq < this.shownSeq) return;
    this.shownSeq = seq;
    this.options.show(result);
  }
}
