/**
 * `--web.config.file`: the prometheus/exporter-toolkit web configuration (TLS, basic auth, response
 * headers), read strictly and validated whole, with errors that name the file and the YAML line.
 * Field names and semantics follow exporter-toolkit docs/web-configuration.md and web/tls_config.go.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { dirname, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { Document, Node as YamlNode, Pair } from 'yaml';

type YamlModule = typeof import('yaml');
let yamlModule: YamlModule | undefined;
/**
 * `yaml` is loaded only when a web config is read: it is a devDependency in package.json today, and a
 * production install (npm ci --omit=dev) without it must still start when --web.config.file is unset.
 */
function yaml(path: string): YamlModule {
  try {
    return (yamlModule ??= createRequire(import.meta.url)('yaml') as YamlModule);
  } catch (error) {
    throw new WebConfigError('READ', path, null, 'cannot parse YAML: the "yaml" package is not installed (it must be a runtime dependency)', { cause: error });
  }
}
const isMap = (node: unknown): boolean => yamlModule?.isMap(node) ?? false;
const isScalar = (node: unknown): node is { value: unknown; range?: [number, number, number] } => yamlModule?.isScalar(node) ?? false;

export type ClientAuthType =
  | 'NoClientCert'
  | 'RequestClientCert'
  | 'RequireAnyClientCert'
  | 'VerifyClientCertIfGiven'
  | 'RequireAndVerifyClientCert';

const CLIENT_AUTH_TYPES: readonly ClientAuthType[] = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
/** The toolkit's spellings; TLS10/TLS11 are refused (see tlsVersion()). */
const TLS_VERSIONS: Readonly<Record<string, TlsVersion>> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };

/** The TLS half of the config with every referenced file already read, so applying it cannot fail on IO. */
export interface TlsServerSettings {
  /** PEM text of the server certificate (chain) and key. */
  readonly cert: string;
  readonly key: string;
  readonly clientAuthType: ClientAuthType;
  /** PEM text of the CA bundle client certificates are verified against; null when none. */
  readonly clientCa: string | null;
  /** Client certificates must carry one of these SANs (DNS, IP, email or URI); null = any. */
  readonly clientAllowedSans: readonly string[] | null;
  readonly minVersion: TlsVersion;
  readonly maxVersion: TlsVersion;
}

export interface WebConfig {
  /** Absolute path of the config file. */
  readonly path: string;
  /** null = plain HTTP. */
  readonly tls: TlsServerSettings | null;
  /** user → bcrypt hash; empty = no authentication. */
  readonly users: ReadonlyMap<string, string>;
  /** Extra response headers (only the toolkit's allowed ones). */
  readonly headers: Readonly<Record<string, string>>;
  /** The config file and every file it references: a change to any of them triggers a reload. */
  readonly watchedFiles: readonly string[];
}

export type WebConfigErrorCode = 'READ' | 'YAML' | 'INVALID' | 'TLS';

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
  constructor(
    readonly code: WebConfigErrorCode,
    /** The config file (or the certificate file that failed). */
    readonly file: string,
    /** 1-based YAML line, when the problem has one. */
    readonly line: number | null,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${detail}`, options);
  }
}

/**
 * exporter-toolkit's extraHTTPHeaders: only these may be set, and those with a list only to one of
 * its values (web/handler.go). Anything else could break the exposition or forge CORS/cookies.
 */
const ALLOWED_HEADERS: Readonly<Record<string, readonly string[] | null>> = {
  'Strict-Transport-Security': null,
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': null,
  'Content-Security-Policy': null,
};

/** `$2a$`, `$2b$`, `$2y$` (htpasswd -B) with a two-digit cost and the 53-character salt+hash. */
const BCRYPT_HASH = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** Reads and validates the file (and the certificates it names). Throws WebConfigError. */
export function loadWebConfig(path: string, readFile: (file: string) => string = (f) => readFileSync(f, 'utf8')): WebConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFile(absolute);
  } catch (error) {
    throw new WebConfigError('READ', absolute, null, `cannot read the web config file: ${(error as Error).message}`, { cause: error });
  }
  return parseWebConfig(text, absolute, readFile);
}

/** Validates `text` as the config file at `path`; relative file names are resolved against its directory (as the toolkit does). */
export function parseWebConfig(text: string, path: string, readFile: (file: string) => string = (f) => readFileSync(f, 'utf8')): WebConfig {
  const { LineCounter, parseDocument } = yaml(path);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  const lineOf = (node: YamlNode | Pair | null | undefined): number | null => {
    const range = node && 'range' in node ? node.range : node && 'key' in node && isScalar(node.key) ? node.key.range : undefined;
    return range ? lineCounter.linePos(range[0]).line : null;
  };
  const firstError = doc.errors[0];
  if (firstError !== undefined) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new WebConfigError('YAML', path, line, `not valid YAML: ${firstError.message.split('\n')[0]}`);
  }
  const fail = (node: YamlNode | Pair | null | undefined, detail: string): never => {
    throw new WebConfigError('INVALID', path, lineOf(node), detail);
  };
  const baseDir = dirname(path);
  const watched = new Set<string>([path]);

  const root = rootMap(doc, fail);
  const sections = fields(root, ['tls_server_config', 'http_server_config', 'basic_auth_users', 'rate_limit'], '', fail);
  if (sections.rate_limit !== undefined) {
    fail(sections.rate_limit, 'rate_limit is not supported by kube-balance-exporter: use --web.max-requests to bound concurrent scrapes');
  }

  // basic_auth_users
  const users = new Map<string, string>();
  const usersNode = sections.basic_auth_users?.value;
  if (usersNode !== undefined && usersNode !== null && !(isScalar(usersNode) && usersNode.value === null)) {
    if (!isMap(usersNode)) fail(sections.basic_auth_users, 'basic_auth_users must be a map of user: bcrypt hash');
    for (const pair of (usersNode as { items: Pair[] }).items) {
      const user = scalarString(pair.key as YamlNode, 'a basic_auth_users user name', fail);
      if (user === '' || user.includes(':')) fail(pair, `basic_auth_users: user name ${JSON.stringify(user)} is not usable with basic auth (empty or contains ":")`);
      const hash = scalarString(pair.value as YamlNode, `the password hash of user ${JSON.stringify(user)}`, fail);
      const match = BCRYPT_HASH.exec(hash);
      if (match === null) fail(pair, `basic_auth_users: the password of user ${JSON.stringify(user)} is not a bcrypt hash (make one with: htpasswd -nBC 10 "" | tr -d ':\\n')`);
      const cost = Number(match?.[1]);
      if (cost < 4 || cost > 31) fail(pair, `basic_auth_users: bcrypt cost ${cost} of user ${JSON.stringify(user)} is outside 4..31`);
      users.set(user, hash);
    }
  }

  // http_server_config
  const headers: Record<string, string> = {};
  const httpNode = sections.http_server_config;
  if (httpNode !== undefined && !isNull(httpNode.value)) {
    const http = fields(asMap(httpNode, 'http_server_config', fail), ['http2', 'headers'], 'http_server_config.', fail);
    if (http.http2 !== undefined) scalarBool(http.http2.value as YamlNode, 'http_server_config.http2', fail);
    if (http.headers !== undefined && !isNull(http.headers.value)) {
      for (const pair of asMap(http.headers, 'http_server_config.headers', fail).items) {
        const name = scalarString(pair.key as YamlNode, 'a header name', fail);
        const value = scalarString(pair.value as YamlNode, `header ${name}`, fail);
        const allowed = ALLOWED_HEADERS[name];
        if (allowed === undefined) fail(pair, `HTTP header ${JSON.stringify(name)} can not be configured (allowed: ${Object.keys(ALLOWED_HEADERS).join(', ')})`);
        if (allowed && !allowed.includes(value)) fail(pair, `invalid value for ${name}: expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`);
        if (/[\r\n\0]/.test(value)) fail(pair, `header ${name} contains a line break or NUL`);
        if (value !== '') headers[name] = value; // "Unset if blank."
      }
    }
  }

  // tls_server_config
  let tls: TlsServerSettings | null = null;
  const tlsNode = sections.tls_server_config;
  if (tlsNode !== undefined && !isNull(tlsNode.value)) {
    const t = fields(
      asMap(tlsNode, 'tls_server_config', fail),
      [
        'cert', 'key', 'client_ca', 'cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'client_allowed_sans',
        'min_version', 'max_version', 'cipher_suites', 'prefer_server_cipher_suites', 'curve_preferences',
      ],
      'tls_server_config.',
      fail,
    );
    const str = (name: string): string | null => {
      const pair = t[name];
      if (pair === undefined || isNull(pair.value)) return null;
      const value = scalarString(pair.value as YamlNode, `tls_server_config.${name}`, fail);
      return value === '' ? null : value;
    };
    for (const unsupported of ['cipher_suites', 'curve_preferences'] as const) {
      const pair = t[unsupported];
      if (pair !== undefined && !isNull(pair.value)) {
        // Go names do not map onto OpenSSL's; silently ignoring a security setting would be worse than refusing it.
        fail(pair, `tls_server_config.${unsupported} is not supported by kube-balance-exporter (Node.js/OpenSSL defaults apply); remove it`);
      }
    }
    if (t.prefer_server_cipher_suites !== undefined) scalarBool(t.prefer_server_cipher_suites.value as YamlNode, 'tls_server_config.prefer_server_cipher_suites', fail);

    const readPem = (pairName: string, file: string, what: string): string => {
      const absolute = resolve(baseDir, file);
      watched.add(absolute);
      try {
        return readFile(absolute);
      } catch (error) {
        throw new WebConfigError('TLS', path, lineOf(t[pairName]), `cannot read ${what} ${absolute}: ${(error as Error).message}`, { cause: error });
      }
    };
    const both = (inline: string, file: string): void => {
      if (str(inline) !== null && str(file) !== null) fail(t[file], `tls_server_config: set ${inline} or ${file}, not both`);
    };
    both('cert', 'cert_file');
    both('key', 'key_file');
    both('client_ca', 'client_ca_file');

    const certFile = str('cert_file');
    const keyFile = str('key_file');
    const caFile = str('client_ca_file');
    const cert = certFile !== null ? readPem('cert_file', certFile, 'cert_file') : str('cert');
    const key = keyFile !== null ? readPem('key_file', keyFile, 'key_file') : str('key');
    const clientCa = caFile !== null ? readPem('client_ca_file', caFile, 'client_ca_file') : str('client_ca');
    if (cert === null) fail(tlsNode, 'tls_server_config: missing one of cert or cert_file');
    if (key === null) fail(tlsNode, 'tls_server_config: missing one of key or key_file');

    const authText = str('client_auth_type') ?? 'NoClientCert';
    // "RequireClientCert" is the toolkit's backwards-compatible spelling of RequireAnyClientCert.
    const clientAuthType = (authText === 'RequireClientCert' ? 'RequireAnyClientCert' : authText) as ClientAuthType;
    if (!CLIENT_AUTH_TYPES.includes(clientAuthType)) {
      fail(t.client_auth_type, `tls_server_config.client_auth_type ${JSON.stringify(authText)} is not one of ${CLIENT_AUTH_TYPES.join(', ')}`);
    }
    if (clientCa !== null && clientAuthType === 'NoClientCert') {
      fail(t.client_ca_file ?? t.client_ca, 'tls_server_config: a client CA is configured but client_auth_type is NoClientCert (use RequireAndVerifyClientCert)');
    }
    if (clientCa === null && (clientAuthType === 'RequireAndVerifyClientCert' || clientAuthType === 'VerifyClientCertIfGiven')) {
      // Go would fall back to the system roots: any publicly issued certificate would pass. Refuse instead.
      fail(t.client_auth_type, `tls_server_config: client_auth_type ${clientAuthType} needs client_ca_file (or client_ca) to verify client certificates against`);
    }
    if (clientCa !== null) {
      const count = countCertificates(clientCa);
      if (count === 0) fail(t.client_ca_file ?? t.client_ca, 'tls_server_config: the client CA contains no PEM certificate');
    }

    let clientAllowedSans: string[] | null = null;
    const sansPair = t.client_allowed_sans;
    if (sansPair !== undefined && !isNull(sansPair.value)) {
      const seq = sansPair.value as { items?: unknown[] };
      if (!Array.isArray(seq.items) || isMap(sansPair.value)) fail(sansPair, 'tls_server_config.client_allowed_sans must be a list of strings');
      clientAllowedSans = (seq.items as YamlNode[]).map((item) => scalarString(item, 'a client_allowed_sans entry', fail));
      if (clientAuthType !== 'RequireAnyClientCert' && clientAuthType !== 'RequireAndVerifyClientCert') {
        fail(sansPair, 'client_allowed_sans requires client_auth_type to be one of RequireAnyClientCert or RequireAndVerifyClientCert');
      }
    }

    const minVersion = tlsVersion(t.min_version, 'min_version', 'TLSv1.2', fail);
    const maxVersion = tlsVersion(t.max_version, 'max_version', 'TLSv1.3', fail);
    if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') fail(t.max_version, 'tls_server_config: max_version is lower than min_version');

    const settings: TlsServerSettings = {
      cert: cert as string,
      key: key as string,
      clientAuthType,
      clientCa,
      clientAllowedSans,
      minVersion,
      maxVersion,
    };
    try {
      // Loads the pair (and CA) exactly as the server will: a key that does not match its certificate fails here, not at the first handshake.
      createSecureContext(secureContextOptions(settings));
    } catch (error) {
      throw new WebConfigError('TLS', path, lineOf(t.cert_file ?? t.cert ?? tlsNode), `cannot load the TLS certificate/key: ${(error as Error).message}`, { cause: error });
    }
    tls = settings;
  }

  return { path, tls, users, headers, watchedFiles: [...watched] };
}

/** What tls.createSecureContext / server.setSecureContext take for these settings. */
export function secureContextOptions(settings: TlsServerSettings): {
  cert: string;
  key: string;
  ca?: string;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
} {
  return {
    cert: settings.cert,
    key: settings.key,
    ...(settings.clientCa !== null ? { ca: settings.clientCa } : {}),
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
  };
}

/** Whether the server asks for a client certificate, and whether OpenSSL rejects unverifiable ones in the handshake. */
export function clientCertPolicy(type: ClientAuthType): { requestCert: boolean; rejectUnauthorized: boolean } {
  switch (type) {
    case 'NoClientCert':
      return { requestCert: false, rejectUnauthorized: false };
    case 'RequireAndVerifyClientCert':
      return { requestCert: true, rejectUnauthorized: true };
    // Request, RequireAny and VerifyIfGiven: the handshake accepts what comes; checkClientCertificate decides.
    default:
      return { requestCert: true, rejectUnauthorized: false };
  }
}

function countCertificates(pem: string): number {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let valid = 0;
  for (const block of blocks) {
    try {
      new X509Certificate(block);
      valid++;
    } catch {
      // counted as not a certificate
    }
  }
  return valid;
}

type Fail = (node: YamlNode | Pair | null | undefined, detail: string) => never;

function isNull(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

function rootMap(doc: Document, fail: Fail): { items: Pair[] } {
  const contents = doc.contents;
  // An empty file is a valid config: no TLS, no auth (the toolkit accepts it too).
  if (isNull(contents)) return { items: [] };
  if (!isMap(contents)) fail(contents as YamlNode, 'the web config must be a YAML map (tls_server_config, http_server_config, basic_auth_users)');
  return contents as unknown as { items: Pair[] };
}

function asMap(pair: Pair, name: string, fail: Fail): { items: Pair[] } {
  if (!isMap(pair.value)) fail(pair, `${name} must be a map`);
  return pair.value as unknown as { items: Pair[] };
}

/** The map's pairs by key; an unknown key is an error (the toolkit unmarshals strictly). */
function fields(map: { items: Pair[] }, known: readonly string[], prefix: string, fail: Fail): Record<string, Pair | undefined> {
  const out: Record<string, Pair | undefined> = {};
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!known.includes(key)) fail(pair, `unknown field ${JSON.stringify(prefix + key)} (known: ${known.map((k) => prefix + k).join(', ')})`);
    out[key] = pair;
  }
  return out;
}

function scalarString(node: YamlNode | null | undefined, what: string, fail: Fail): string {
  if (!isScalar(node) || typeof node.value !== 'string') fail(node, `${what} must be a string`);
  return (node as { value: string }).value;
}

function scalarBool(node: YamlNode | null | undefined, what: string, fail: Fail): boolean {
  if (!isScalar(node) || typeof node.value !== 'boolean') fail(node, `${what} must be true or false`);
  return (node as { value: boolean }).value;
}

function tlsVersion(pair: Pair | undefined, name: string, fallback: TlsVersion, fail: Fail): TlsVersion {
  if (pair === undefined || isNull(pair.value)) return fallback;
  const text = scalarString(pair.value as YamlNode, `tls_server_config.${name}`, fail);
  const version = TLS_VERSIONS[text];
  if (version === undefined) {
    const old = text === 'TLS10' || text === 'TLS11';
    fail(pair, `tls_server_config.${name} ${JSON.stringify(text)} is not ${old ? 'allowed (TLS 1.0 and 1.1 are obsolete)' : 'a TLS version'}: use TLS12 or TLS13`);
  }
  return version as TlsVersion;
}
