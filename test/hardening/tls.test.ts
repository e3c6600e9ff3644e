/**
 * --web.config.file end to end through runExporter with real TLS clients (node:https): passwords,
 * certificates, client-auth policies, plain HTTP to the TLS port, reloads and certificate rotation.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runExporter, type ExporterHandle } from '../../src/run-exporter.js';
import { captureLogger } from './support/capture-logger.js';
import { createTestPki, type TestPki } from './support/certs.js';
import { eventually, testConfig } from './support/exporter-config.js';
import { get, rawExchange, type TestRequestOptions } from './support/http-client.js';

const DUMP = new URL('../fixtures/model/current-layout-overall.txt', import.meta.url).pathname;
const HASH = bcrypt.hashSync('s3cret', 4);
const HASH_NEW = bcrypt.hashSync('n3w-secret', 4);

let pki: TestPki;
let handle: ExporterHandle | null = null;
let logger = captureLogger();
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());
afterEach(async () => {
  await handle?.close();
  handle = null;
});

function writeWebConfig(name: string, yaml: string): string {
  const path = join(pki.dir, name);
  writeFileSync(path, yaml);
  return path;
}

async function start(webConfigFile: string, checkIntervalMs = 0): Promise<{ base: string; port: number }> {
  logger = captureLogger();
  handle = await runExporter(testConfig({ file: DUMP, webConfigFile }), {
    logger,
    metricsPage: { registry: new Registry() },
    webConfigCheckIntervalMs: checkIntervalMs,
    onReloadSignal: () => () => {},
  });
  const port = handle.address.port;
  return { base: `https://localhost:${port}`, port };
}

const tlsYaml = (extra = ''): string => `tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n${extra}`;

describe('TLS', () => {
  it('serves HTTPS with the configured certificate; clients that do not trust it fail', async () => {
    const { base } = await start(writeWebConfig('tls.yml', tlsYaml()));
    const ok = await get(`${base}/metrics`, { ca: pki.read(pki.caCert) });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^kube_balance_up /m);
    // The wrong CA: certificate verification fails on the client.
    await expect(get(`${base}/metrics`, { ca: pki.read(pki.otherCaCert) })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('answers plain HTTP on the TLS port with 400, as Go does, instead of a silent reset', async () => {
    const { port } = await start(writeWebConfig('tls.yml', tlsYaml()));
    const answer = await rawExchange(port, 'GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answer).toContain('Client sent an HTTP request to an HTTPS server.');
    expect(answer).not.toContain('kube_balance');
  });

  it('min_version TLS13 refuses a TLS 1.2-only client', async () => {
    const { base } = await start(writeWebConfig('tls13.yml', tlsYaml('  min_version: TLS13\n')));
    const ca = pki.read(pki.caCert);
    expect((await get(`${base}/-/healthy`, { ca })).protocol).toBe('TLSv1.3');
    await expect(get(`${base}/-/healthy`, { ca, maxVersion: 'TLSv1.2' })).rejects.toThrow(/version|protocol|handshake|alert/i);
  });
});

describe('client certificates', () => {
  const client = (): TestRequestOptions => ({ ca: pki.read(pki.caCert), cert: pki.read(pki.clientCert), key: pki.read(pki.clientKey) });
  const stranger = (): TestRequestOptions => ({ ca: pki.read(pki.caCert), cert: pki.read(pki.otherClientCert), key: pki.read(pki.otherClientKey) });
  const anonymous = (): TestRequestOptions => ({ ca: pki.read(pki.caCert) });

  it('RequireAndVerifyClientCert: the CA-signed client passes; no certificate and a wrong-CA certificate do not', async () => {
    const { base } = await start(writeWebConfig('mtls.yml', tlsYaml('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n')));
    expect((await get(`${base}/metrics`, client())).status).toBe(200);
    await expect(get(`${base}/metrics`, anonymous())).rejects.toThrow();
    await expect(get(`${base}/metrics`, stranger())).rejects.toThrow();
  });

  it('RequireAnyClientCert: any certificate, but some certificate', async () => {
    const { base } = await start(writeWebConfig('any.yml', tlsYaml('  client_auth_type: RequireAnyClientCert\n')));
    expect((await get(`${base}/metrics`, stranger())).status).toBe(200);
    await expect(get(`${base}/metrics`, anonymous())).rejects.toThrow();
  });

  it('VerifyClientCertIfGiven: no certificate is fine, an unverifiable one is not', async () => {
    const { base } = await start(writeWebConfig('ifgiven.yml', tlsYaml('  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n')));
    expect((await get(`${base}/metrics`, anonymous())).status).toBe(200);
    expect((await get(`${base}/metrics`, client())).status).toBe(200);
    await expect(get(`${base}/metrics`, stranger())).rejects.toThrow();
  });

  it('client_allowed_sans: a verified certificate without an allowed SAN is refused', async () => {
    const { base } = await start(
      writeWebConfig('sans.yml', tlsYaml('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  client_allowed_sans: [grafana.monitoring.svc]\n')),
    );
    await expect(get(`${base}/metrics`, client())).rejects.toThrow();
    await handle?.close();
    const second = await start(
      writeWebConfig('sans-ok.yml', tlsYaml('  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n  client_allowed_sans: [prometheus.monitoring.svc]\n')),
    );
    expect((await get(`${second.base}/metrics`, client())).status).toBe(200);
  });
});

describe('basic auth', () => {
  it('right password 200; wrong password, unknown user, no or malformed credentials 401 with WWW-Authenticate', async () => {
    const { base } = await start(
      writeWebConfig('auth.yml', `${tlsYaml()}basic_auth_users:\n  prometheus: ${HASH}\nhttp_server_config:\n  headers:\n    X-Frame-Options: deny\n`),
    );
    const ca = pki.read(pki.caCert);
    const ok = await get(`${base}/metrics`, { ca, auth: 'prometheus:s3cret' });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-frame-options']).toBe('deny');
    for (const options of [{ auth: 'prometheus:wrong' }, { auth: 'nobody:s3cret' }, {}, { headers: { authorization: 'Basic !!!' } }, { headers: { authorization: 'Bearer abc' } }]) {
      const denied = await get(`${base}/metrics`, { ca, ...options });
      expect(denied.status, JSON.stringify(options)).toBe(401);
      expect(denied.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(denied.body).not.toContain('kube_balance');
    }
    // Every path, unknown ones included: no information before authentication.
    expect((await get(`${base}/nope`, { ca })).status).toBe(401);
    expect((await get(`${base}/-/healthy`, { ca })).status).toBe(401);
    expect((await get(`${base}/-/healthy`, { ca, auth: 'prometheus:s3cret' })).status).toBe(200);
  });
});

describe('reload', () => {
  it('SIGHUP-style reload swaps users; an invalid file is rejected and the old config stays in force', async () => {
    const path = writeWebConfig('reload.yml', `${tlsYaml()}basic_auth_users:\n  prometheus: ${HASH}\n`);
    const { base } = await start(path);
    const ca = pki.read(pki.caCert);
    expect((await get(`${base}/metrics`, { ca, auth: 'prometheus:s3cret' })).status).toBe(200);

    writeFileSync(path, `${tlsYaml()}basic_auth_users:\n  prometheus: ${HASH_NEW}\n`);
    expect(handle?.reloadWebConfig()).toEqual({ ok: true, changed: true });
    // The cached success of the old password died with the old config.
    expect((await get(`${base}/metrics`, { ca, auth: 'prometheus:s3cret' })).status).toBe(401);
    expect((await get(`${base}/metrics`, { ca, auth: 'prometheus:n3w-secret' })).status).toBe(200);

    writeFileSync(path, `${tlsYaml()}basic_auth_users:\n  prometheus: not-a-hash\n`);
    const rejected = handle?.reloadWebConfig();
    expect(rejected?.ok).toBe(false);
    const line = logger.find('error', /web config reload failed: keeping the previous configuration/);
    expect(line?.fields).toMatchObject({ file: path, line: 5 });
    expect(String(line?.fields.error)).toContain('is not a bcrypt hash');
    expect((await get(`${base}/metrics`, { ca, auth: 'prometheus:n3w-secret' })).status).toBe(200);
  });

  it('turning TLS off needs a restart: the reload is refused and HTTPS keeps working', async () => {
    const path = writeWebConfig('toggle.yml', tlsYaml());
    const { base } = await start(path);
    writeFileSync(path, `basic_auth_users: {}\n`);
    const result = handle?.reloadWebConfig();
    expect(result?.ok).toBe(false);
    expect(result && !result.ok ? result.error : '').toMatch(/disabling TLS needs a restart/);
    expect((await get(`${base}/-/healthy`, { ca: pki.read(pki.caCert) })).status).toBe(200);
  });

  it('a rotated certificate file is picked up by the periodic check without a restart or a signal', async () => {
    copyFileSync(pki.serverCert, join(pki.dir, 'rot.pem'));
    copyFileSync(pki.serverKey, join(pki.dir, 'rot.key'));
    const path = writeWebConfig('rotate.yml', 'tls_server_config:\n  cert_file: rot.pem\n  key_file: rot.key\n');
    const { base } = await start(path, 20);
    const ca = pki.read(pki.caCert);
    const before = (await get(`${base}/-/healthy`, { ca })).serverSerial;
    // cert-manager style: new key and certificate land in place.
    copyFileSync(pki.serverKey2, join(pki.dir, 'rot.key'));
    copyFileSync(pki.serverCert2, join(pki.dir, 'rot.pem'));
    const expected = new (await import('node:crypto')).X509Certificate(pki.read(pki.serverCert2)).serialNumber;
    expect(before).not.toBe(expected);
    await eventually(async () => (await get(`${base}/-/healthy`, { ca })).serverSerial === expected);
    expect(logger.find('info', /web config reloaded/)?.fields).toMatchObject({ reason: 'file changed' });
  });

  it('reacts to a real SIGHUP', async () => {
    const path = writeWebConfig('sighup.yml', `${tlsYaml()}basic_auth_users:\n  prometheus: ${HASH}\n`);
    logger = captureLogger();
    handle = await runExporter(testConfig({ file: DUMP, webConfigFile: path }), { logger, metricsPage: { registry: new Registry() }, webConfigCheckIntervalMs: 0 });
    const base = `https://localhost:${handle.address.port}`;
    const ca = pki.read(pki.caCert);
    writeFileSync(path, `${tlsYaml()}basic_auth_users:\n  prometheus: ${HASH_NEW}\n`);
    process.kill(process.pid, 'SIGHUP');
    await eventually(() => logger.find('info', /web config reloaded/) !== undefined);
    expect((await get(`${base}/metrics`, { ca, auth: 'prometheus:n3w-secret' })).status).toBe(200);
  });

  it('an invalid file at start-up fails runExporter with the file and line', async () => {
    const path = writeWebConfig('broken.yml', 'tls_server_config:\n  cert_file: server.pem\n  kye_file: server.key\n');
    await expect(runExporter(testConfig({ file: DUMP, webConfigFile: path }), { logger: captureLogger() })).rejects.toThrow(
      `${path}:3: unknown field "tls_server_config.kye_file"`,
    );
  });
});
