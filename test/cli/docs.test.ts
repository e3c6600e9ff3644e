import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { EXPORTER_FLAGS } from '../../src/cli/flags.js';
import { renderExporterHelp, renderFlagsMarkdown } from '../../src/cli/help.js';
import { envNamesOf } from '../../src/cli/parse-args.js';
import { REPORT_FLAGS } from '../../src/cli/report-flags.js';

const START = '<!-- flags:start -->';
const END = '<!-- flags:end -->';
const README = new URL('../../README.md', import.meta.url);

function section(text: string): string | null {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) return null;
  return text.slice(start + START.length, end);
}

const expected = `\n${renderFlagsMarkdown()}`;

describe('generated flag docs', () => {
  test('the README section matches renderFlagsMarkdown() (UPDATE_DOCS=1 npx vitest run test/cli rewrites it)', () => {
    const text = readFileSync(README, 'utf8');
    const current = section(text);
    expect(current, `README.md has no ${START} … ${END} markers`).not.toBeNull();
    if (process.env.UPDATE_DOCS === '1' && current !== null && current !== expected) {
      // A replacer function: the markdown must not be read as a `$&`-style replacement pattern.
      writeFileSync(README, text.replace(`${START}${current}${END}`, () => `${START}${expected}${END}`));
      return;
    }
    expect(current, 'README.md flags section is stale: run UPDATE_DOCS=1 npx vitest run test/cli').toBe(expected);
  });

  test.each([...EXPORTER_FLAGS, ...REPORT_FLAGS].map((d) => [d.name, d] as const))('--%s is in the markdown and the help', (name, def) => {
    const markdown = renderFlagsMarkdown();
    const spelled = new RegExp(`--(?:\\[no-\\])?${name.replace(/\./g, '\\.')}\\b`);
    expect(markdown).toMatch(spelled);
    for (const env of envNamesOf(def)) expect(markdown).toContain(`\`${env}\``);
    if (EXPORTER_FLAGS.includes(def)) {
      const help = renderExporterHelp();
      expect(help).toMatch(spelled);
      for (const env of envNamesOf(def)) expect(help).toContain(env);
    }
  });

  test('help lines fit in 100 columns', () => {
    for (const line of renderExporterHelp().split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });
});
