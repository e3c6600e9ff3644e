/** kube-proxy's `--probability` text and what iptables-save prints back after the kernel rounds it. */

/** proxier.go `computeProbability(n)`: `fmt.Sprintf("%0.10f", 1.0/float64(n))` (5 decimals before v1.17). */
export function kubeProxyProbability(n: number, decimals = 10): string {
  return formatProbability(1 / n, decimals);
}

/** Go `%0.Nf` of a probability. JS `toFixed` rounds the binary value the same way for these magnitudes. */
export function formatProbability(value: number, decimals = 10): string {
  return value.toFixed(decimals);
}

/**
 * The value iptables-save prints for a `--probability p` rule: libxt_statistic stores
 * `lround(0x80000000 * p)` as a 31-bit fraction and prints `%.11f` of it, so 1/3 reads back as
 * 0.33333333349 and 0.5 as 0.50000000000.
 */
export function savedProbability(text: string): string {
  const p = Number(text);
  if (!Number.isFinite(p) || p < 0 || p > 1) throw new RangeError(`bad probability '${text}'`);
  const stored = Math.round(0x80000000 * p);
  return (stored / 0x80000000).toFixed(11);
}
