import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig, WebConfigError } from '../../src/server/web-config.js';
import { createTestPki, type TestPki } from './support/certs.js';

const FIXTURES = new URL('../fixtures/web-config/', import.meta.url).pathname;
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.yml'));

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
  // Fixtures name their certificates relative to themselves: copy them next to the generated PKI.
  for (const file of fixtures) copyFileSync(join(FIXTURES, file), join(pki.dir, file));
});
afterAll(() => pki.remove());

/** `# expect line N: message` on a bad fixture's first line. */
function expectation(file: string): { line: number; message: string } {
  const first = readFileSync(join(FIXTURES, file), 'utf8').split('\n')[0] ?? '';
  const match = /^# expect line (\d+): (.+)$/.exec(first);
  if (match === null) throw new Error(`${file} has no "# expect line N: message" header`);
  return { line: Number(match[1]), message: match[2] ?? '' };
}

describe('--web.config.file validation (one fixture per mistake)', () => {
  it.each(fixtures.filter((f) => f.endsWith('.bad.yml')))('%s is rejected naming the file and line', (file) => {
    const { line, message } = expectation(file);
    const path = join(pki.dir, file);
    let error: unknown;
    try {
      loadWebConfig(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebConfigError);
    const e = error as WebConfigError;
    expect(e.message).toContain(message);
    expect(e.file).toBe(path);
    expect(e.line).toBe(line);
    expect(e.message.startsWith(`${path}:${line}: `)).toBe(true);
  });

  it.each(fixtures.filter((f) => f.endsWith('.good.yml')))('%s loads', (file) => {
    expect(() => loadWebConfig(join(pki.dir, file))).not.toThrow();
  });

  it('a missing file is a READ error naming it', () => {
    expect(() => loadWebConfig(join(pki.dir, 'nope.yml'))).toThrow(/nope\.yml: cannot read the web config file: ENOENT/);
  });

  it('reads what the toolkit format means', () => {
    const basic = loadWebConfig(join(pki.dir, 'basic-auth.good.yml'));
    expect(basic.tls).toBeNull();
    expect([...basic.users.keys()]).toEqual(['prometheus', 'grafana']);
    // A blank header value means "unset".
    expect(basic.headers).toEqual({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'deny' });

    const mtls = loadWebConfig(join(pki.dir, 'tls-mtls.good.yml'));
    expect(mtls.tls).toMatchObject({ clientAuthType: 'RequireAndVerifyClientCert', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(mtls.tls?.cert).toBe(pki.read(pki.serverCert));
    expect(mtls.watchedFiles).toEqual([join(pki.dir, 'tls-mtls.good.yml'), pki.serverCert, pki.serverKey, pki.caCert]);

    const empty = loadWebConfig(join(pki.dir, 'empty.good.yml'));
    expect(empty).toMatchObject({ tls: null, headers: {} });
    expect(empty.users.size).toBe(0);
  });
});
