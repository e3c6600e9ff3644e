/** A ParsedDump with nothing in it: for reads that carry their model directly (nftables mode, a scan-only read). */
import type { ParsedDump } from '../iptables/types.js';

export function emptyDump(): ParsedDump {
  return { tables: new Map(), skipped: [], hasCounters: false, lineCount: 0, truncated: false, warnings: [] };
}
