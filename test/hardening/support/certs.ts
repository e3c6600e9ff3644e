/** Test PKI made with the openssl CLI: a CA, a server certificate for localhost/127.0.0.1, client certificates from that CA and from an unrelated one. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  readonly dir: string;
  /** Paths of PEM files. */
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** A second server certificate (same CA, different serial): for rotation tests. */
  readonly serverCert2: string;
  readonly serverKey2: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Signed by an unrelated CA. */
  readonly otherCaCert: string;
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  read(path: string): string;
  remove(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

function makeLeaf(dir: string, ca: string, name: string, cn: string, ext: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'kbe-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
  makeLeaf(dir, 'ca', 'server', 'localhost', serverExt);
  makeLeaf(dir, 'ca', 'server2', 'localhost', serverExt);
  makeLeaf(dir, 'ca', 'client', 'prometheus', 'subjectAltName=DNS:prometheus.monitoring.svc\nextendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'other-ca', 'other-client', 'intruder', 'subjectAltName=DNS:prometheus.monitoring.svc\nextendedKeyUsage=clientAuth\n');
  const p = (name: string): string => join(dir, name);
  return {
    dir,
    caCert: p('ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    serverCert2: p('server2.pem'),
    serverKey2: p('server2.key'),
    clientCert: p('client.pem'),
    clientKey: p('client.key'),
    otherCaCert: p('other-ca.pem'),
    otherClientCert: p('other-client.pem'),
    otherClientKey: p('other-client.key'),
    read: (path) => readFileSync(path, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
