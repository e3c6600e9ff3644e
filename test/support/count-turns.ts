/** Counts turns of the event loop (setImmediate callbacks) until stopped: how often a sliced stage let others run. */
export function countTurns(): { readonly turns: () => number; readonly stop: () => void } {
  let turns = 0;
  let running = true;
  const tick = (): void => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return { turns: () => turns, stop: () => (running = false) };
}
