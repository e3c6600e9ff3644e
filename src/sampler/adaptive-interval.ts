/** The adaptive sample interval: slow saves stretch it so iptables-save stays under --sample.max-cpu of one core. */

/**
 * max(minimum, cost / maxCpu): a sample costing `costSeconds` of CPU every `interval` seconds uses
 * cost/interval of a core. Rounded up to whole seconds when it exceeds the minimum, so small jitter in
 * the cost does not change (and log) the interval on every sample.
 */
export function adaptiveIntervalSeconds(minimumSeconds: number, costSeconds: number, maxCpu: number): number {
  if (!(maxCpu > 0) || !Number.isFinite(costSeconds) || costSeconds <= 0) return minimumSeconds;
  const needed = costSeconds / maxCpu;
  return needed <= minimumSeconds ? minimumSeconds : Math.ceil(needed);
}
