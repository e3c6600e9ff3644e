import { describe, expect, test } from 'vitest';
import { createLogger, formatJsonLine, formatLogfmt } from '../../src/cli/logger.js';
import type { LogFormat, LogLevel } from '../../src/config.js';
import { sink } from './cli-io.js';

const TS = new Date('2024-11-26T12:00:00.123Z');

class CodedError extends Error {
  readonly code = 'E_TEST';
}

describe('logfmt', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['started', {}, 'ts=2024-11-26T12:00:00.123Z level=info msg=started'],
    ['sample done', { family: 'ipv4', ladders: 12, ok: true }, 'ts=2024-11-26T12:00:00.123Z level=info msg="sample done" family=ipv4 ladders=12 ok=true'],
    ['x', { empty: '' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x empty=""'],
    ['x', { q: 'say "hi"' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x q="say \\"hi\\""'],
    ['x', { eq: 'a=b' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x eq="a=b"'],
    ['x', { lines: 'one\ntwo\tthree\r' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x lines="one\\ntwo\\tthree\\r"'],
    ['x', { back: 'C:\\dir name' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x back="C:\\\\dir name"'],
    ['x', { bell: 'a\u0007b' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x bell="a\\u0007b"'],
    ['x', { path: '/metrics', addr: ':10090' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x path=/metrics addr=:10090'],
    ['x', { nothing: null, skipped: undefined }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x nothing=null'],
    ['x', { list: ['ipv4', 'ipv6'] }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x list=ipv4,ipv6'],
    ['x', { nested: [{ a: 1 }] }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x nested="[{\\"a\\":1}]"'],
    ['x', { obj: { a: 1, b: 'two words' } }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x obj="{\\"a\\":1,\\"b\\":\\"two words\\"}"'],
    ['x', { 'bad key': 1, msg: 'shadow' }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x bad_key=1 msg_=shadow'],
    ['x', { when: new Date(0) }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x when=1970-01-01T00:00:00.000Z'],
    ['x', { re: /^(?:kube-.*)$/ }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x re=^(?:kube-.*)$'],
    ['x', { big: 2n ** 70n }, 'ts=2024-11-26T12:00:00.123Z level=info msg=x big=1180591620717411303424'],
    ['ünïcode ✓', { v: 'naïve' }, 'ts=2024-11-26T12:00:00.123Z level=info msg="ünïcode ✓" v=naïve'],
  ])('%s (case %#)', (msg, fields, expected) => {
    expect(formatLogfmt(TS, 'info', msg, fields)).toBe(`${expected}\n`);
  });

  test('errors show their message chain and code, never a stack', () => {
    const error = new CodedError('save failed', { cause: new Error('exit status 4') });
    const line = formatLogfmt(TS, 'error', 'sample failed', { err: error });
    expect(line).toBe('ts=2024-11-26T12:00:00.123Z level=error msg="sample failed" err="save failed (E_TEST): exit status 4"\n');
    expect(line).not.toContain('    at ');
  });
});

describe('JSON lines', () => {
  test('one object per line with ts, level, msg first and fields after', () => {
    const line = formatJsonLine(TS, 'warn', 'slow save', { seconds: 2.5, family: 'ipv6', err: new Error('boom'), level: 'x' });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trimEnd()).not.toContain('\n');
    expect(Object.keys(JSON.parse(line) as object)).toEqual(['ts', 'level', 'msg', 'seconds', 'family', 'err', 'level_']);
    expect(JSON.parse(line)).toEqual({
      ts: '2024-11-26T12:00:00.123Z',
      level: 'warn',
      msg: 'slow save',
      seconds: 2.5,
      family: 'ipv6',
      err: 'boom',
      level_: 'x',
    });
  });

  test('a message with newlines and quotes stays on one line', () => {
    const line = formatJsonLine(TS, 'info', 'a\n"b"', { map: new Map([['k', 1]]), set: new Set([1, 2]), big: 3n });
    expect(line.split('\n')).toHaveLength(2);
    expect(JSON.parse(line)).toMatchObject({ msg: 'a\n"b"', map: { k: 1 }, set: [1, 2], big: '3' });
  });

  test('circular fields do not throw', () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => formatJsonLine(TS, 'info', 'x', { loop })).not.toThrow();
  });
});

describe('createLogger', () => {
  const levels: LogLevel[] = ['debug', 'info', 'warn', 'error'];
  test.each<[LogLevel, LogLevel[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('level %s writes %j', (threshold, written) => {
    const out = sink();
    const logger = createLogger({ level: threshold, sink: out, now: () => TS });
    for (const level of levels) logger[level](`a ${level} message`);
    const seen = out
      .text()
      .trimEnd()
      .split('\n')
      .map((line) => /level=(\w+)/.exec(line)?.[1]);
    expect(seen).toEqual(written);
  });

  test.each<[LogFormat, string]>([
    ['logfmt', 'ts=2024-11-26T12:00:00.123Z level=info msg=hello n=1\n'],
    ['json', '{"ts":"2024-11-26T12:00:00.123Z","level":"info","msg":"hello","n":1}\n'],
  ])('format %s', (format, expected) => {
    const out = sink();
    createLogger({ format, sink: out, now: () => TS }).info('hello', { n: 1 });
    expect(out.text()).toBe(expected);
  });

  test('a sink that throws (closed stderr) does not take the caller down', () => {
    const logger = createLogger({
      sink: {
        write() {
          throw new Error('EPIPE');
        },
      },
    });
    expect(() => logger.error('still running')).not.toThrow();
  });
});
