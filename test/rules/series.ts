/**
 * Seeded, realistic input series for promtool unit tests: what a fleet of kube-balance-exporters
 * would expose while kube-proxy spreads Poisson-arriving connections over each node's ladder.
 */
import { mulberry32 } from '../../src/lab/mulberry32.js';

export type Labels = Readonly<Record<string, string>>;

/** One node ladder (KUBE-SVC or KUBE-SVL on one node) of a service port. */
export interface LadderSpec {
  readonly node: string;
  readonly policy?: 'cluster' | 'local';
  /** Endpoints programmed in this node's ladder, in rule order. */
  readonly endpoints: readonly string[];
  /** New connections per second entering this ladder. */
  readonly rate: number;
  /** Where the kernel actually sends them (defaults to uniform); need not sum to 1. */
  readonly weights?: readonly number[];
  /** kube_balance_service_programmed_deviation_ratio of this ladder (default 0). */
  readonly programmedDeviation?: number;
  /**
   * Minutes [from, to) during which an endpoint is not in the ladder (not ready: scale-up, readiness
   * flapping). Its series vanish meanwhile; its counter carries on when it comes back.
   */
  readonly absent?: readonly { readonly endpoint: string; readonly from: number; readonly to: number }[];
}

export interface ServiceSpec {
  readonly namespace: string;
  readonly service: string;
  readonly port: string;
  readonly protocol?: string;
  readonly ipFamily?: 'ipv4' | 'ipv6';
  readonly clusterIP: string;
  readonly affinity?: boolean;
  readonly ladders: readonly LadderSpec[];
  /** Reserved enrichment metrics (--kube.enabled): drift per node from a minute on. */
  readonly drift?: readonly { readonly node: string; readonly fromMinute: number; readonly missing: number }[];
  /** The conntrack view (--conntrack.enabled, nf_conntrack_acct=1) of this service port, per node. */
  readonly conntrack?: readonly ConntrackSpec[];
}

/**
 * What one node's conntrack table holds for a service port at each scrape: open connections per
 * endpoint (Poisson around a mean) and the bytes they have carried (connections × bytes per
 * connection, ±10 %).
 */
export interface ConntrackSpec {
  readonly node: string;
  readonly endpoints: readonly string[];
  /** Mean established connections per endpoint. */
  readonly connections: readonly number[];
  /** Mean bytes carried per open connection, per endpoint: the load. */
  readonly bytesPerConnection: readonly number[];
  /** Minutes [from, to) during which an endpoint's bytes per connection are multiplied by `factor`. */
  readonly bursts?: readonly { readonly endpoint: string; readonly from: number; readonly to: number; readonly factor: number }[];
}

export interface NodeSpec {
  readonly node: string;
  readonly instance: string;
  readonly job?: string;
  /** The target stops answering (up 0, every other series of the node gone) from this minute. */
  readonly downFromMinute?: number;
  /** The sampler hangs: the page keeps serving the last snapshot (timestamps and counters frozen). */
  readonly stuckFromMinute?: number;
  /** One sample in three fails at the save stage from this minute. */
  readonly failingFromMinute?: number;
  /**
   * Every sample fails from this minute (iptables-save gone): kube_balance_up 0, the last good data is
   * served for --sample.max-age (2m), then ladder series are withheld.
   */
  readonly brokenFromMinute?: number;
  /** The exporter restarts (all its counters start again from zero) at these minutes. */
  readonly restartsAtMinutes?: readonly number[];
}

export interface SeriesOptions {
  readonly minutes: number;
  readonly scrapeSeconds: number;
  /** The exporter's --window: how long kube_balance_service_window_membership_changed stays 1. */
  readonly windowMinutes: number;
  readonly seed: number;
  readonly cluster?: string;
}

export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

export function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Poisson(mean): Knuth for small means, a rounded normal (Box–Muller) above 30. */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const u = Math.max(random(), Number.MIN_VALUE);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}

export function seriesName(metric: string, labels: Labels): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return `${metric}{${body}}`;
}

/** promtool's value notation: `_` for a missing sample, `v+0xN` for runs of equal values. */
export function formatValues(values: readonly (number | null)[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < values.length) {
    const v = values[i];
    let j = i;
    while (j + 1 < values.length && values[j + 1] === v) j++;
    const run = j - i;
    if (v === null || v === undefined) out.push(...Array<string>(run + 1).fill('_'));
    else if (run >= 3) out.push(`${fmt(v)}+0x${run}`);
    else out.push(...Array<string>(run + 1).fill(fmt(v)));
    i = j + 1;
  }
  return out.join(' ');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
}

interface NodeState {
  readonly spec: NodeSpec;
  readonly targetLabels: Labels;
}

/** Generates every input series of one scenario. Steps are `scrapeSeconds` apart, 0..minutes. */
export function generateSeries(services: readonly ServiceSpec[], nodes: readonly NodeSpec[], options: SeriesOptions): InputSeries[] {
  const random = mulberry32(options.seed);
  const steps = Math.round((options.minutes * 60) / options.scrapeSeconds);
  const minuteOf = (step: number) => (step * options.scrapeSeconds) / 60;
  const nodeStates = new Map<string, NodeState>();
  for (const spec of nodes) {
    const targetLabels: Labels = {
      ...(options.cluster === undefined ? {} : { cluster: options.cluster }),
      instance: spec.instance,
      job: spec.job ?? 'kube-balance-exporter',
      node: spec.node,
    };
    nodeStates.set(spec.node, { spec, targetLabels });
  }
  const nodeOf = (name: string): NodeState => {
    const n = nodeStates.get(name);
    if (n === undefined) throw new Error(`ladder on unknown node ${name}`);
    return n;
  };
  // Scraped: the target answers. Live: the sampler is producing fresh data.
  const scraped = (n: NodeState, step: number) => n.spec.downFromMinute === undefined || minuteOf(step) < n.spec.downFromMinute;
  const before = (limit: number | undefined, step: number) => limit === undefined || minuteOf(step) < limit;
  const live = (n: NodeState, step: number) => before(n.spec.stuckFromMinute, step) && before(n.spec.brokenFromMinute, step);
  const broken = (n: NodeState, step: number) => !before(n.spec.brokenFromMinute, step);
  // Ladder series: on the page unless the target is down or the data is older than --sample.max-age.
  const shown = (n: NodeState, step: number) =>
    scraped(n, step) && before(n.spec.brokenFromMinute === undefined ? undefined : n.spec.brokenFromMinute + 2, step);
  const restartedAt = (n: NodeState, step: number) =>
    (n.spec.restartsAtMinutes ?? []).some((m) => step > 0 && minuteOf(step - 1) < m && minuteOf(step) >= m);

  const out: InputSeries[] = [];
  const gauge = (metric: string, labels: Labels, valueAt: (step: number) => number | null) => {
    const values: (number | null)[] = [];
    for (let s = 0; s <= steps; s++) values.push(valueAt(s));
    out.push({ series: seriesName(metric, labels), values: formatValues(values) });
  };

  for (const svc of services) {
    const ladderLabelsBase = {
      namespace: svc.namespace,
      service: svc.service,
      port: svc.port,
      protocol: svc.protocol ?? 'tcp',
      ip_family: svc.ipFamily ?? 'ipv4',
    };
    for (const ladder of svc.ladders) {
      const node = nodeOf(ladder.node);
      const policy = ladder.policy ?? 'cluster';
      const labels: Labels = { ...node.targetLabels, ...ladderLabelsBase, policy };
      const all = ladder.endpoints;
      const absentAt = (endpoint: string, minute: number) =>
        (ladder.absent ?? []).some((a) => a.endpoint === endpoint && a.from <= minute && minute < a.to);
      const members = (step: number) => all.filter((e) => !absentAt(e, minuteOf(step)));
      const weightOf = (endpoint: string, step: number) => {
        const weight = (e: string) => ladder.weights?.[ladder.endpoints.indexOf(e)] ?? 1;
        return weight(endpoint) / members(step).reduce((sum, e) => sum + weight(e), 0);
      };
      // The exporter flags a ladder whose membership changed within its --window.
      const changedRecently = (step: number) =>
        (ladder.absent ?? []).some((a) =>
          [a.from, a.to].some((m) => m > 0 && minuteOf(step) >= m && minuteOf(step) < m + options.windowMinutes),
        );

      // Counters: Poisson arrivals per scrape interval, split by the kernel's (possibly skewed) weights.
      const counters = new Map<string, (number | null)[]>();
      const running = new Map<string, number>();
      for (let s = 0; s <= steps; s++) {
        const restart = restartedAt(node, s);
        for (const e of all) {
          const values = counters.get(e) ?? [];
          counters.set(e, values);
          if (!members(s).includes(e) || !shown(node, s)) {
            values.push(null);
            continue;
          }
          const arrivals = s === 0 || !live(node, s) ? 0 : poisson(random, ladder.rate * options.scrapeSeconds * weightOf(e, s));
          const base = restart || !running.has(e) ? 0 : running.get(e)!;
          // A stuck sampler serves its last snapshot: the counter does not move.
          const next = live(node, s) ? base + arrivals : base;
          running.set(e, next);
          values.push(next);
        }
      }
      for (const e of all) {
        const endpointLabels = { ...labels, endpoint: e };
        out.push({ series: seriesName('kube_balance_endpoint_connections_total', endpointLabels), values: formatValues(counters.get(e)!) });
        gauge('kube_balance_endpoint_expected_ratio', endpointLabels, (s) =>
          members(s).includes(e) && shown(node, s) ? 1 / members(s).length : null,
        );
      }
      const chain = `KUBE-${policy === 'local' ? 'SVL' : 'SVC'}-${svc.service.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(16, 'X').slice(0, 16)}`;
      gauge(
        'kube_balance_service_info',
        { ...labels, cluster_ip: svc.clusterIP, session_affinity: svc.affinity === true ? 'ClientIP' : 'None', chain },
        (s) => (shown(node, s) ? 1 : null),
      );
      gauge('kube_balance_service_programmed_deviation_ratio', labels, (s) => (shown(node, s) ? (ladder.programmedDeviation ?? 0) : null));
      gauge('kube_balance_service_window_membership_changed', labels, (s) => (shown(node, s) ? (changedRecently(s) ? 1 : 0) : null));
    }
    for (const ct of svc.conntrack ?? []) {
      const node = nodeOf(ct.node);
      const labels: Labels = { ...node.targetLabels, ...ladderLabelsBase };
      const n = ct.endpoints.length;
      const established: number[][] = [];
      const all: number[][] = [];
      const bytes: number[][] = [];
      for (let s = 0; s <= steps; s++) {
        const minute = minuteOf(s);
        const est = ct.connections.map((mean) => poisson(random, mean));
        // TIME_WAIT, SYN_SENT and friends on top of the established ones.
        all.push(est.map((c) => c + poisson(random, 2)));
        established.push(est);
        bytes.push(
          est.map((c, i) => {
            const burst = (ct.bursts ?? []).find((b) => b.endpoint === ct.endpoints[i] && b.from <= minute && minute < b.to);
            return Math.round(c * ct.bytesPerConnection[i]! * (burst?.factor ?? 1) * (0.9 + 0.2 * random()));
          }),
        );
      }
      ct.endpoints.forEach((e, i) => {
        const endpointLabels = { ...labels, endpoint: e };
        gauge('kube_balance_endpoint_active_connections', { ...endpointLabels, state: 'established' }, (s) => established[s]![i]!);
        gauge('kube_balance_endpoint_active_connections', { ...endpointLabels, state: 'all' }, (s) => all[s]![i]!);
        // Requests are small, responses big: a fifth of the bytes towards the endpoint.
        gauge('kube_balance_endpoint_traffic_bytes', { ...endpointLabels, direction: 'original' }, (s) => Math.round(bytes[s]![i]! / 5));
        gauge('kube_balance_endpoint_traffic_bytes', { ...endpointLabels, direction: 'reply' }, (s) => bytes[s]![i]! - Math.round(bytes[s]![i]! / 5));
      });
      // As the exporter derives them: max over endpoints of share / (1/n); absent without flows or bytes.
      const skew = (values: readonly number[]) => {
        const total = values.reduce((a, b) => a + b, 0);
        return total > 0 ? (Math.max(...values) / total) * n : null;
      };
      gauge('kube_balance_service_active_skew_ratio', labels, (s) => skew(all[s]!));
      gauge('kube_balance_service_bytes_skew_ratio', labels, (s) => skew(bytes[s]!));
    }
    for (const d of svc.drift ?? []) {
      const node = nodeOf(d.node);
      const labels: Labels = { ...node.targetLabels, ...ladderLabelsBase, policy: 'cluster' };
      gauge('kube_balance_service_drift_missing_endpoints', labels, (s) => (minuteOf(s) >= d.fromMinute ? d.missing : 0));
      gauge('kube_balance_service_drift_stale_endpoints', labels, () => 0);
    }
  }

  for (const node of nodeStates.values()) {
    const t = node.targetLabels;
    const lastLive = (s: number) => {
      let k = s;
      while (k > 0 && !live(node, k)) k--;
      return k;
    };
    const failedPerStep = (s: number) => (broken(node, s) ? 1 : !before(node.spec.failingFromMinute, s) ? 1 / 3 : 0);
    const sinceRestart = (s: number) => {
      let k = s;
      while (k > 0 && !restartedAt(node, k)) k--;
      return k;
    };
    gauge('up', t, (s) => (scraped(node, s) ? 1 : 0));
    const scrapedOnly = (f: (s: number) => number) => (s: number) => (scraped(node, s) ? f(s) : null);
    gauge('kube_balance_up', t, scrapedOnly((s) => (broken(node, s) ? 0 : 1)));
    // The sampler runs every 10s, a few seconds before the scrape.
    gauge('kube_balance_last_sample_timestamp_seconds', t, scrapedOnly((s) => lastLive(s) * options.scrapeSeconds - 4));
    gauge('kube_balance_sample_interval_seconds', t, scrapedOnly(() => 10));
    const samplesPerStep = options.scrapeSeconds / 10;
    // Every attempt counts, failed or not; a hung sampler attempts nothing.
    const attempting = (s: number) => before(node.spec.stuckFromMinute, s);
    gauge('kube_balance_samples_total', t, scrapedOnly((s) => {
      let n = 0;
      for (let k = sinceRestart(s) + 1; k <= s; k++) if (attempting(k)) n += samplesPerStep;
      return n;
    }));
    for (const stage of ['save', 'parse']) {
      gauge('kube_balance_sample_errors_total', { ...t, stage }, scrapedOnly((s) => {
        if (stage !== 'save') return 0;
        let errors = 0;
        for (let k = sinceRestart(s) + 1; k <= s; k++) errors += samplesPerStep * failedPerStep(k);
        return errors;
      }));
    }
  }
  return out;
}
