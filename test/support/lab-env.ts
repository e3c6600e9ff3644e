/** Gate for real-kernel lab tests: run as root; fail loudly in CI when that is impossible, skip visibly elsewhere. */
import { spawnSync } from 'node:child_process';

function unavailableReason(): string | null {
  if (process.platform !== 'linux') return `lab tests need Linux (this is ${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'lab tests need root (network namespaces, iptables): run `sudo npx vitest run test/lab`';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.status !== 0) return `lab tests need iproute2 with netns support: \`ip netns list\` failed: ${ip.stderr ?? ip.error?.message ?? ''}`.trim();
  return null;
}

const reason = unavailableReason();
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

if (reason !== null) {
  if (ci) throw new Error(`${reason} (CI is set: the lab tests must run there, so this fails instead of skipping)`);
  console.warn(`\n*** SKIPPING real-kernel lab tests: ${reason} ***\n`);
}

/** True when the lab can run here; use with `describe.skipIf(!labAvailable)`. */
export const labAvailable = reason === null;
export const labSkipReason = reason;
