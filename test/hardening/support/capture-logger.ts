/** A Logger that keeps every line, for asserting what the exporter said. */
import type { Logger } from '../../../src/logger-types.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
}

export function captureLogger(): Logger & { readonly lines: LogLine[]; find(level: LogLine['level'], msg: RegExp): LogLine | undefined } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    find: (level, msg) => lines.find((l) => l.level === level && msg.test(l.msg)),
  };
}
