import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { holdWhileRunning, openHoldings } from '../src/held-while-running.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full collection once the current job is over (a WeakRef keeps its target alive until then). */
async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/** A part nothing but the holding references; its WeakRef and the release. */
function heldPart(): { ref: WeakRef<object>; release: () => void } {
  const part = { state: new Array<number>(1000).fill(1) };
  return { ref: new WeakRef(part), release: holdWhileRunning(part) };
}

describe('holdWhileRunning', () => {
  it('keeps a part alive until released, then lets it go', async () => {
    const before = openHoldings();
    const { ref, release } = heldPart();
    expect(openHoldings()).toBe(before + 1);
    await collect();
    expect(ref.deref()).toBeDefined();
    release();
    release();
    expect(openHoldings()).toBe(before);
    await collect();
    expect(ref.deref()).toBeUndefined();
  });

  it('control: a part nobody holds is collected', async () => {
    const ref = new WeakRef({ state: new Array<number>(1000).fill(1) });
    await collect();
    expect(ref.deref()).toBeUndefined();
  });
});
