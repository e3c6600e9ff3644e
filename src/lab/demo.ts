/** `npm run demo`: a kube-proxy node in network namespaces, steady traffic, the exporter, and a refreshing report until Ctrl-C. */
import { parseArgs } from 'node:util';
import { defaultCliPath, startExporter, type ExporterHandle } from './exporter-process.js';
import { startLab, type Lab, type LabBackend } from './lab.js';
import { driveTraffic, type TrafficRequest } from './traffic.js';

/** One round of the traffic mix: every rule shape of the default scenario gets some new connections. */
const MIX: readonly TrafficRequest[] = [
  { service: 'shop/web', count: 30, from: 'client' },
  { service: 'shop/web', count: 20, via: 'node-port' },
  { service: 'shop/checkout', count: 20, via: 'node-port' },
  { service: 'shop/checkout', count: 10, from: 'node' },
  { service: 'kube-system/dns', port: 'dns', count: 30 },
  { service: 'kube-system/dns', port: 'dns-tcp', count: 10 },
  // ClientIP affinity: each of the four client addresses sticks to one endpoint.
  ...[0, 1, 2, 3].map((clientAddress) => ({ service: 'shop/cart', count: 3, clientAddress, concurrency: 1 })),
  { service: 'shop/search', count: 30, from: 'node' },
  { service: 'default/kubernetes', count: 5, from: 'node' },
  { service: 'shop/web6', count: 15, from: 'node' },
];

const USAGE = `usage: npm run demo [-- --backend=nft|legacy] [--duration=SECONDS] [--refresh=SECONDS] [--cli=dist/cli.js]
Brings up a simulated kube-proxy node in network namespaces (root required), drives real traffic
through its Services, runs the exporter inside the node and shows what it reports. Ctrl-C tears it all down.`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The per-ladder window statistics from /metrics, one line each. */
function statisticsLines(metrics: string): string[] {
  const rows = new Map<string, { skew?: string; p?: string; window?: string }>();
  for (const line of metrics.split('\n')) {
    const m = /^kube_balance_service_(skew_ratio|uniformity_p_value|window_connections)\{namespace="([^"]*)",service="([^"]*)",port="([^"]*)",protocol="([^"]*)",ip_family="([^"]*)",policy="([^"]*)"\} (\S+)$/.exec(line);
    if (m === null) continue;
    const [, what, ns, svc, port, proto, family, policy, v] = m as unknown as string[];
    const key = `${ns}/${svc}${port === '' ? '' : `:${port}`}/${proto} ${family} ${policy}`;
    const row = rows.get(key) ?? {};
    if (what === 'skew_ratio') row.skew = Number(v).toFixed(2);
    if (what === 'uniformity_p_value') row.p = Number(v).toPrecision(3);
    if (what === 'window_connections') row.window = v ?? '';
    rows.set(key, row);
  }
  const out = [`${'ladder'.padEnd(48)} ${'window'.padStart(7)} ${'skew'.padStart(6)} ${'p-value'.padStart(10)}`];
  for (const [key, row] of [...rows].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const flag = row.p !== undefined && Number(row.p) < 0.01 ? '  <- not uniform' : '';
    out.push(`${key.padEnd(48)} ${(row.window ?? '-').padStart(7)} ${(row.skew ?? '-').padStart(6)} ${(row.p ?? '-').padStart(10)}${flag}`);
  }
  return out;
}

async function refresh(lab: Lab, exporter: ExporterHandle, cli: string, started: number, rounds: number): Promise<void> {
  const report = await lab.exec(lab.nodeNamespace, process.execPath, [cli, 'report', `--iptables.backend=${lab.backend}`], { allowFailure: true });
  const metrics = await exporter.get('/metrics').catch((error: unknown) => ({ status: 0, body: String(error) }));
  const screen = [
    `kube-balance-exporter lab demo · ${lab.backend} backend · ${Math.round((Date.now() - started) / 1000)} s · ${rounds} traffic rounds · Ctrl-C to stop`,
    '',
    `metrics:  sudo ip netns exec ${lab.nodeNamespace} curl -s ${exporter.url}/metrics`,
    `report:   sudo ip netns exec ${lab.nodeNamespace} node ${cli} report`,
    '',
    '== exporter window statistics (from /metrics) ==',
    ...statisticsLines(metrics.body),
    '',
    '== `report` on the node (raw counters since kube-proxy last wrote each chain) ==',
    report.exitCode === 0 ? report.stdout.trimEnd() : `report failed: ${report.stderr.trim()}`,
  ];
  const clear = process.stdout.isTTY ? '\x1b[2J\x1b[H' : '\n';
  process.stdout.write(`${clear}${screen.join('\n')}\n`);
}

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let values: { backend?: string; duration?: string; refresh?: string; cli?: string; help?: boolean };
  try {
    values = parseArgs({ args: [...argv], options: { backend: { type: 'string' }, cli: { type: 'string' }, duration: { type: 'string' }, refresh: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    process.stderr.write(`${String((error as Error).message)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    process.stderr.write('npm run demo needs root: it creates network namespaces and loads iptables rules into them.\nRun it as root, e.g. `sudo npm run demo`. Nothing outside its own namespaces is touched.\n');
    process.exitCode = 1;
    return;
  }
  const backend = (values.backend ?? 'nft') as LabBackend;
  if (backend !== 'nft' && backend !== 'legacy') {
    process.stderr.write(`--backend must be nft or legacy, not ${String(values.backend)}\n`);
    process.exitCode = 2;
    return;
  }
  const durationMs = values.duration === undefined ? Infinity : Number(values.duration) * 1000;
  const refreshMs = Number(values.refresh ?? 5) * 1000;
  let stopping = false;
  // The lab's cleanup registry removes everything synchronously on SIGINT/SIGTERM; this only says so.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      process.stdout.write('\nstopping: tearing the lab down\n');
    });
  }

  const cli = values.cli ?? defaultCliPath();
  process.stdout.write(`starting the lab (${backend} backend)...\n`);
  const lab = await startLab({ backend });
  let exporter: ExporterHandle | undefined;
  try {
    exporter = await startExporter(lab, { cliPath: cli, args: ['--sample.interval=2s', '--window=2m', '--kube.enabled=false', '--log.level=warn'] });
    const started = Date.now();
    let rounds = 0;
    let lastRefresh = 0;
    while (!stopping && Date.now() - started < durationMs) {
      for (const request of MIX) {
        if (stopping) break;
        await driveTraffic(lab, request);
      }
      rounds++;
      if (Date.now() - lastRefresh >= refreshMs) {
        lastRefresh = Date.now();
        await refresh(lab, exporter, cli, started, rounds);
      }
      await sleep(500);
    }
  } finally {
    await exporter?.stop().catch(() => {});
    await lab.teardown();
    process.stdout.write('lab torn down\n');
  }
}

await main();
