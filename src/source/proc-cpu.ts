/** CPU time of a child process from /proc/<pid>/stat (utime + stime), read while it runs: process.resourceUsage() covers only us. */
import { readFileSync } from 'node:fs';

/**
 * USER_HZ: /proc reports times in clock ticks of sysconf(_SC_CLK_TCK), which Linux fixes at 100 on every
 * mainstream architecture; Node cannot call sysconf, so it is a constant here.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/** Parses the utime + stime fields of a /proc/<pid>/stat line; null when the line is not one. */
export function parseProcStatCpuSeconds(stat: string): number | null {
  // comm (field 2) is in parentheses and may itself contain spaces or ')': split after the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds used so far by `pid`; null when /proc is unavailable or the process is already reaped. */
export function readProcCpuSeconds(pid: number): number | null {
  try {
    return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}
