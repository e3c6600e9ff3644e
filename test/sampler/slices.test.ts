// src/slices.ts: the driver the sampler and the sources run long stages with.
import { describe, expect, it } from 'vitest';
import { runInSlices, runToEnd, type Slices, WorkMeter } from '../../src/slices.js';
import { countTurns } from '../support/count-turns.js';

/** `n` checkpoints, each `step` ms of (fake) time apart; returns how many it passed. */
function* ticks(n: number, clock: { ms: number }, step: number): Slices<number> {
  for (let i = 0; i < n; i++) {
    clock.ms += step;
    yield;
  }
  return n;
}

describe('runInSlices', () => {
  it('turns the event loop first, then once a slice has run sliceMs, not at every checkpoint', async () => {
    const clock = { ms: 0 };
    const turns = countTurns();
    // 100 checkpoints 5 ms apart, slices of 20 ms: a turn every 4th checkpoint.
    expect(await runInSlices(ticks(100, clock, 5), { sliceMs: 20, now: () => clock.ms })).toBe(100);
    turns.stop();
    expect(turns.turns()).toBeGreaterThanOrEqual(25);
    expect(turns.turns()).toBeLessThanOrEqual(27);
  });

  it('runs in one slice when it never fills', async () => {
    const clock = { ms: 0 };
    const turns = countTurns();
    expect(await runInSlices(ticks(100, clock, 0), { sliceMs: 20, now: () => clock.ms })).toBe(100);
    turns.stop();
    expect(turns.turns()).toBe(1);
  });

  it('rejects with the signal’s reason when it aborts between slices, and does not start when aborted', async () => {
    const clock = { ms: 0 };
    const controller = new AbortController();
    let passed = 0;
    function* counted(): Slices<string> {
      for (; passed < 100; passed++) yield;
      return 'done';
    }
    const run = runInSlices(counted(), { signal: controller.signal, sliceMs: 0, now: () => clock.ms });
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('stopping'));
    await expect(run).rejects.toThrow('stopping');
    expect(passed).toBeLessThan(100);
    await expect(runInSlices(ticks(1, clock, 0), { signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe('runInSlices with firstSliceNow and an injected turn (the render queue)', () => {
  it('runs the first slice before returning, then waits for each turn it is given', async () => {
    const clock = { ms: 0 };
    const turns: (() => void)[] = [];
    const yieldTurn = (): Promise<void> => new Promise((resolve) => turns.push(resolve));
    let passed = 0;
    function* counted(): Slices<number> {
      for (; passed < 3; passed++) {
        clock.ms += 10;
        yield;
      }
      return passed;
    }
    const run = runInSlices(counted(), { sliceMs: 10, now: () => clock.ms, yieldTurn, firstSliceNow: true });
    // Synchronously: one slice ran (one checkpoint of 10 ms fills it), and it waits for a turn.
    expect(clock.ms).toBe(10);
    expect(passed).toBe(0);
    expect(turns).toHaveLength(1);
    turns.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(passed).toBe(1);
    while (turns.length > 0) {
      turns.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await run).toBe(3);
  });
});

describe('runToEnd / WorkMeter', () => {
  it('runToEnd gives the result in one go', () => {
    expect(runToEnd(ticks(7, { ms: 0 }, 1))).toBe(7);
  });

  it('WorkMeter is due every perCheckpoint units, then starts over', () => {
    const meter = new WorkMeter(10);
    expect([4, 5, 1, 9, 30, 1].map((units) => meter.add(units))).toEqual([false, false, true, false, true, false]);
  });
});
