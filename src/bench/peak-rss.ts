/**
 * A process's peak RSS as the kernel keeps it for its memory map (VmHWM in /proc/PID/status).
 *
 * Not `process.resourceUsage().maxRSS` (getrusage's ru_maxrss): a forked child starts with its
 * parent's RSS as its high-water mark and keeps it across exec, so a child spawned by a large
 * parent reports the parent's size until it outgrows it. The benchmark's parent holds ~320 MiB
 * after the XL pipeline and serve runs, and the memory child's "peak" was that, not its own. VmHWM
 * belongs to the memory map, which exec replaces.
 */
import { readFileSync } from 'node:fs';

/** Bytes; NaN when unreadable (not Linux, or the process has exited). */
export function peakRssBytes(pid: number | 'self'): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}
