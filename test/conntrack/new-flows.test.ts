import { describe, expect, it } from 'vitest';
import { advanceNewFlows, INITIAL_NEW_FLOW_STATE } from '../../src/conntrack/new-flows.js';

describe('advanceNewFlows', () => {
  it('uses the first scan as a baseline, then counts flows not in the previous scan', () => {
    let state = advanceNewFlows(INITIAL_NEW_FLOW_STATE, new Map([['f1', 'a'], ['f2', 'b']]));
    expect([...state.totals]).toEqual([]);
    state = advanceNewFlows(state, new Map([['f2', 'b'], ['f3', 'a'], ['f4', 'a']]));
    expect(Object.fromEntries(state.totals)).toEqual({ a: 2 });
    // f3 is gone, f4 stays, f5 is new; a reused id with another tuple is another key.
    state = advanceNewFlows(state, new Map([['f4', 'a'], ['f5', 'b']]));
    expect(Object.fromEntries(state.totals)).toEqual({ a: 2, b: 1 });
    expect(state.scans).toBe(3);
  });

  it('does not change the previous state', () => {
    const first = advanceNewFlows(INITIAL_NEW_FLOW_STATE, new Map([['f1', 'a']]));
    advanceNewFlows(first, new Map([['f2', 'a']]));
    expect([...first.totals]).toEqual([]);
    expect([...first.seen]).toEqual(['f1']);
  });
});
