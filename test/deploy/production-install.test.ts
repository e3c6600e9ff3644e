/**
 * What the image's runtime stage holds — package.json, the lockfile's production tree and dist/ — is
 * enough to run the CLI: a clean `npm ci --omit=dev` beside a fresh build, then `--help` and `report`.
 * Catches a runtime import of a devDependency, which the repo's own node_modules would hide.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from './render.js';

const FIXTURE = join(import.meta.dirname, 'fixtures/kube-proxy-nat-counters.txt');
const dir = mkdtempSync(join(tmpdir(), 'kube-balance-prod-'));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  devDependencies: Record<string, string>;
};
const bin = Object.values(pkg.bin)[0] as string;

let build: { status: number | null; output: string };
let install: { ok: boolean; output: string };

function run(cmd: string, args: string[], cwd: string, timeout = 300_000): { status: number | null; output: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, NODE_ENV: 'production' } });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function tail(s: string, n = 40): string {
  return s.trim().split('\n').slice(-n).join('\n');
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  if (!existsSync(join(dir, bin))) expect.fail(`build did not emit ${bin}:\n${tail(build.output)}`);
  if (!install.ok) expect.fail(`npm ci --omit=dev failed:\n${tail(install.output)}`);
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // The Dockerfile's build stage: `npm run build` (tsc -p tsconfig.build.json), here into the temp dir
  // so that a concurrent build of the shared dist/ is neither needed nor disturbed.
  build = run(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], REPO);
  copyFileSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(REPO, 'package-lock.json'), join(dir, 'package-lock.json'));
  // The Dockerfile's deps stage. Offline first (the npm cache usually has everything); the registry
  // otherwise.
  const flags = ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
  let r = run('npm', [...flags, '--offline'], dir);
  if (r.status !== 0) r = run('npm', [...flags, '--prefer-offline'], dir);
  install = { ok: r.status === 0, output: r.output };
}, 600_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('production install (what the runtime image holds)', () => {
  it('the build stage compiles without errors', () => {
    expect(build.status, `tsc -p tsconfig.build.json failed (the image build would too):\n${tail(build.output)}`).toBe(0);
  });

  it('npm ci --omit=dev installs nothing the lockfile marks dev-only', () => {
    expect(install.ok, tail(install.output)).toBe(true);
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev === true);
    // Sanity: the test means something only if the lockfile has dev-only packages (typescript, vitest).
    expect(devOnly.map(([path]) => path)).toContain('node_modules/typescript');
    for (const [path] of devOnly) expect(existsSync(join(dir, path)), `dev-only ${path} installed`).toBe(false);
    expect(Object.keys(pkg.devDependencies).length).toBeGreaterThan(0);
  });

  it('`--help` runs and documents every flag the DaemonSet passes', () => {
    const r = cli(['--help']);
    expect(r.status, r.stderr).toBe(0);
    const ds = parse(readFileSync(join(REPO, 'deploy/base/daemonset.yaml'), 'utf8')) as {
      spec: { template: { spec: { containers: Array<{ args?: string[] }> } } };
    };
    const args = ds.spec.template.spec.containers[0]?.args ?? [];
    expect(args.length).toBeGreaterThan(0);
    for (const arg of args) {
      const flag = /^(--[\w.-]+)/.exec(arg)?.[1] ?? arg;
      expect(r.stdout, `DaemonSet arg ${arg}`).toContain(`${flag}=`);
    }
    // The env fallback the DaemonSet relies on for the node's name.
    expect(r.stdout).toContain('--kube.node-name');
    expect(r.stdout).toContain('NODE_NAME');
  });

  it('`report --input <dump> --format json` reads a kube-proxy dump', () => {
    const r = cli(['report', '--input', FIXTURE, '--format', 'json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      servicePorts: Array<{ namespace: string; service: string; port: string; connections: number; endpoints: Array<{ endpoint: string; connections: number }> }>;
    };
    expect(report.servicePorts).toHaveLength(1);
    const web = report.servicePorts[0];
    expect({ namespace: web?.namespace, service: web?.service, port: web?.port, connections: web?.connections }).toEqual({
      namespace: 'default',
      service: 'web',
      port: 'http',
      connections: 1500,
    });
    expect(web?.endpoints.map((e) => [e.endpoint, e.connections])).toEqual([
      ['10.244.1.5:8080', 510],
      ['10.244.2.7:8080', 495],
      ['10.244.3.9:8080', 495],
    ]);
  });
});

