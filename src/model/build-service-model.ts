/** The model stage: a parsed nat table → one ladder per KUBE-SVC / KUBE-SVL / KUBE-XLB chain, with endpoints. */
import type { IpFamily, ParsedDump } from '../iptables/types.js';
import { runToEnd, type Slices, WorkMeter } from '../slices.js';
import { sortSteps } from '../sort-steps.js';
import { serviceChainPrefix } from './chain-names.js';
import { type EndpointChainInfo, readEndpointChain, resolveEndpoint } from './endpoint-chain.js';
import { DROPPED_COMMENT, type LadderChainRead, type LadderRule, readLadderChain } from './ladder-chain.js';
import { LadderFingerprint } from './ladder-fingerprint.js';
import { LadderReuse } from './ladder-reuse.js';
import { type ResolvedName, resolveName } from './resolve-name.js';
import { collectServicePortsInSlices, NameSource, noteName, noteProtocol, type ServicePortGroup } from './service-ports.js';
import type { Ladder, LadderEndpoint, Policy, ServiceModel } from './types.js';

/** Model warnings beyond this many are summarised in one line. */
const MAX_MODEL_WARNINGS = 50;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Namespace, service, port, policy, chain; ladders without a name last (by chain). */
export function compareLadders(a: Ladder, b: Ladder): number {
  if (a.name === null || b.name === null) {
    if (a.name !== b.name) return a.name === null ? 1 : -1;
  } else {
    const byName =
      compareText(a.name.namespace, b.name.namespace) ||
      compareText(a.name.service, b.name.service) ||
      compareText(a.name.port, b.name.port);
    if (byName !== 0) return byName;
  }
  return compareText(a.policy, b.policy) || compareText(a.chain, b.chain);
}

export interface BuildServiceModelOptions {
  /**
   * KUBE-SEP chains already read while parsing (createEndpointChainCollector), for a dump parsed
   * without their rules. A chain not in the map is read from the dump.
   */
  readonly endpointChains?: { get(chain: string): EndpointChainInfo | undefined };
  /**
   * Ladder chains already read while parsing (createLadderChainCollector), for a dump parsed without
   * their jumps to KUBE-SEP chains. A chain not in the map is read from the dump.
   */
  readonly ladderChains?: {
    get(chain: string): LadderChainRead | undefined;
    /** The build is done with `chain`'s read; its ladder's fingerprint, for the cache a resumed read takes it from. */
    release?(chain: string, fingerprint: string): void;
    /** A read resumed from the last parse's cache proved inexact: the next parse must not use that cache (FoldedLadders). */
    forgetCache?(): void;
  };
  /** Frees `endpointChains` (createChainFolding's FoldedChains); called with releaseFolds. */
  readonly releaseEndpointChains?: () => void;
  /**
   * Free the folds as the build stops needing them: the KUBE-SEP chains' once every ladder is read
   * (`releaseEndpointChains`), a ladder chain's once its ladder is built (`ladderChains.release`).
   * At 20,000 services × 10 endpoints that is ~44 MiB less held at the end of the build, where a
   * parsed read's heap peaks. The folds are then spent (a second build from them throws, see
   * FoldedLadders.get): for a caller that builds once and keeps the model, not the folds.
   */
  readonly releaseFolds?: boolean;
  /**
   * Filled, when given, with each ladder's (by key) `--rcheck` affinity rule lines per endpoint: with
   * LadderEndpoint.line, the lines whose counters an endpoint's numbers are (for planCounters).
   */
  readonly affinityLines?: Map<string, readonly (readonly number[])[]>;
  /**
   * The last model's ladders (laddersOf), for a parse after a rules change: a ladder built with the
   * same structure (all but counters and lines) is that object, and the model holds its counters
   * and lines as arrays (ServiceModel.counters; ladder-reuse.ts). Ignored for a dump without counters.
   */
  readonly reuseLadders?: readonly Ladder[];
}

/**
 * Builds the service model of one family's dump. Pure; reads only table `nat` (headerless excerpts
 * are put there by the parser). One pass over the chains, then one read of each ladder chain and
 * of each KUBE-SEP chain a ladder rule jumps to. No step is worse than linear in the rules.
 */
export function buildServiceModel(dump: ParsedDump, ipFamily: IpFamily, options: BuildServiceModelOptions = {}): ServiceModel {
  return runToEnd(buildServiceModelInSlices(dump, ipFamily, options));
}

/**
 * `buildServiceModel` in slices: yields when `meter` says (every few thousand rules and endpoints), so
 * that a caller can let the event loop run in between (runInSlices; at 20,000 services × 10 endpoints
 * the build takes ~0.5–1 s). Returns the same model; `options.affinityLines` is filled as it goes.
 */
export function* buildServiceModelInSlices(
  dump: ParsedDump,
  ipFamily: IpFamily,
  options: BuildServiceModelOptions = {},
  meter = new WorkMeter(),
): Slices<ServiceModel> {
  const endpointChains = options.endpointChains;
  const foldedLadders = options.ladderChains;
  // Only with releasable ladder folds: their guard is what stops a second build from reading the
  // cleared KUBE-SEP folds as "not folded" (and finding no endpoints in the dump).
  const releaseLadder = options.releaseFolds === true ? foldedLadders?.release?.bind(foldedLadders) : undefined;
  const warnings: string[] = [...dump.warnings];
  let suppressedWarnings = 0;
  const warn = (message: string): void => {
    if (warnings.length - dump.warnings.length < MAX_MODEL_WARNINGS) warnings.push(message);
    else suppressedWarnings++;
  };
  if (dump.truncated) {
    // A dump cut short (timeout, size limit) can end inside a ladder: its last rules are missing.
    warnings.push('model: the dump is truncated; the last ladders read may be incomplete');
  }
  const nat = dump.tables.get('nat');
  if (nat === undefined) {
    return { ipFamily, ladders: [], skipped: dump.skipped, hasCounters: dump.hasCounters, warnings };
  }

  const { groups, ladders, servicesMasquerade } = yield* collectServicePortsInSlices(nat, meter);

  // A service port reached only through KUBE-EXT/KUBE-FW whose chains this input does not show
  // (real dump 10: a grep for the LB rule) still has its KUBE-SVC chain, named by the shared suffix.
  const groupList = Array.from(groups.values());
  for (let i = 0; i < groupList.length; i++) {
    const g = groupList[i] as ServicePortGroup;
    if (g.ladderChains.length === 0 && g.hasExternalChain) {
      const chain = `KUBE-SVC-${g.suffix}`;
      ladders.set(chain, g.suffix);
      g.ladderChains.push(chain);
    }
  }

  // Per ladder, in `ladders` order (both loops below walk it): its group, its read, and the endpoint
  // address of each ladder rule, all ladders' in one array (a ladder's start at its index in
  // `addressStarts`). The address is resolved as soon as the SEP chain's info is read: the infos are
  // scattered in memory, in SEP-chain order, and a second visit in buildLadder cost a cache miss per
  // endpoint. SEP chains shared by KUBE-SVC and KUBE-SVL are read twice: two rules each, cheaper
  // than a second 200k-entry Map on large clusters.
  const ladderGroups: ServicePortGroup[] = [];
  const reads: (LadderChainRead | null)[] = [];
  const addresses: (string | null)[] = [];
  const addressStarts: number[] = [];
  const readLadder = (chain: string, suffix: string): LadderChainRead => {
    const g = groups.get(suffix) as ServicePortGroup;
    const read = foldedLadders?.get(chain) ?? readLadderChain(nat.chains.get(chain));
    ladderGroups.push(g);
    reads.push(read);
    addressStarts.push(addresses.length);
    const masq = read.masquerade;
    if (masq !== null) {
      noteName(g, NameSource.Masquerade, masq.comment);
      noteProtocol(g, masq.protocol);
      if (g.clusterIP === null) g.clusterIP = masq.clusterIP;
      if (g.servicePort === null) g.servicePort = masq.servicePort;
    }
    noteName(g, NameSource.Other, read.otherComment);
    const rules = read.rules;
    let named = false;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as LadderRule;
      const comment = rule.comment;
      noteName(g, NameSource.LadderRule, comment);
      const info = endpointChains?.get(rule.chain) ?? readEndpointChain(nat.chains.get(rule.chain));
      if (comment === DROPPED_COMMENT && info.dnat === null) {
        // A read resumed from the last parse's cache (ladder-chain-cache.ts), whose build dropped this
        // comment when the KUBE-SEP chain had a DNAT target. resolveEndpoint would now read the endpoint
        // from it: no model rather than a wrong endpoint, for this read only.
        foldedLadders?.forgetCache?.();
        throw new Error(
          `model: ${chain} (line ${rule.line}) was read from the last parse's cache, which keeps no comment of the rule that jumps to ${rule.chain}, and ${rule.chain} has no DNAT target now; the next read parses every ladder chain`,
        );
      }
      addresses.push(resolveEndpoint(info, comment));
      noteName(g, NameSource.EndpointChain, info.comment);
      noteProtocol(g, info.protocol);
      // The read is held until buildLadder, which reads no comment (one string per endpoint, 200k on a
      // large cluster). What this loop reads stays, so that a second build from the same folds reads
      // the same: the read's first naming comment (with a `/`), and those that give an endpoint (no DNAT).
      if (comment !== null && comment !== DROPPED_COMMENT) {
        if (!named && comment.includes('/')) named = true;
        else if (info.dnat !== null) rule.comment = DROPPED_COMMENT;
      }
    }
    for (const sep of read.orphanAffinityChains) {
      warn(`${chain}: affinity rule for ${sep} has no load-balancing rule; ignored`);
    }
    return read;
  };

  const names = new Map<string, ResolvedName>();
  const clusterIPByService = new Map<string, string>();
  const nameGroup = (g: ServicePortGroup): void => {
    const resolved = resolveName(g.suffix, g.nameComments, g.protocol);
    names.set(g.suffix, resolved);
    if (resolved.name === null) return;
    if (!resolved.verified && resolved.protocol !== null) {
      warn(`${g.ladderChains[0] ?? g.suffix}: no comment names a service port whose hash is ${g.suffix}; using ${resolved.text ?? ''}`);
    }
    if (g.clusterIP === null && resolved.text !== null) {
      const old = servicesMasquerade.get(resolved.text);
      if (old !== undefined) {
        g.clusterIP = old.clusterIP;
        if (g.servicePort === null) g.servicePort = old.servicePort;
      }
    }
    const serviceKey = `${resolved.name.namespace}/${resolved.name.service}`;
    if (g.clusterIP !== null && !clusterIPByService.has(serviceKey)) clusterIPByService.set(serviceKey, g.clusterIP);
  };

  const hasCounters = dump.hasCounters;
  /** The ladder of the `index`th ladder chain, once every group is named. */
  const buildLadder = (chain: string, suffix: string, index: number): Ladder => {
    const g = ladderGroups[index] as ServicePortGroup;
    const read = reads[index] as LadderChainRead;
    reads[index] = null;
    const addressStart = addressStarts[index] as number;
    const resolved = names.get(suffix);
    const name = resolved?.name ?? null;
    // Every port of one Service shares its cluster IP (per family): fill it from a sibling port.
    const clusterIP = g.clusterIP ?? (name === null ? null : (clusterIPByService.get(`${name.namespace}/${name.service}`) ?? null));
    const policy: Policy = serviceChainPrefix(chain) === 'KUBE-SVC-' ? 'cluster' : 'local';
    const hasAffinity = read.affinityTimeoutSeconds !== undefined;
    const rules = read.rules;
    const n = rules.length;
    let remaining = 1;
    let ladderConnections: number | null = hasCounters ? 0 : null;
    // A read resumed from the last parse's cache knows its ladder's fingerprint (~9% of a reparse's build).
    const fingerprint = read.fingerprint === undefined ? new LadderFingerprint() : null;
    // map, not push: exact-size arrays (a pushed-to array keeps room for 17), and the model keeps them.
    const endpoints: LadderEndpoint[] = rules.map((rule, i) => {
      const p = rule.probability === null ? 1 : rule.probability.value;
      const programmedRatio = p * remaining;
      remaining *= 1 - p;
      fingerprint?.addRule(rule.chain, rule.probability === null ? null : rule.probability.text);
      const connections = hasCounters ? (rule.packets ?? 0) + (rule.affinityPackets ?? 0) : null;
      if (ladderConnections !== null && connections !== null) ladderConnections += connections;
      return {
        endpoint: addresses[addressStart + i] as string | null,
        chain: rule.chain,
        probability: rule.probability === null ? null : rule.probability.value,
        programmedRatio,
        expectedRatio: 1 / n,
        connections,
        affinityConnections: hasCounters && hasAffinity ? (rule.affinityPackets ?? 0) : null,
        line: rule.line,
      };
    });
    const key = `${ipFamily}/${chain}`;
    options.affinityLines?.set(key, rules.map((rule) => rule.affinityLines));
    const digest = fingerprint === null ? (read.fingerprint as string) : fingerprint.digest();
    // The build's last use of the read (affinityLines aside, which are its own arrays).
    releaseLadder?.(chain, digest);
    return {
      key,
      chain,
      policy,
      ipFamily,
      name,
      protocol: resolved?.protocol ?? g.protocol,
      clusterIP,
      servicePort: g.servicePort,
      nodePort: g.nodePort,
      externalIPs: g.externalIPs,
      loadBalancerIPs: g.loadBalancerIPs,
      sessionAffinity: hasAffinity ? { timeoutSeconds: read.affinityTimeoutSeconds ?? null } : null,
      endpoints,
      connections: ladderConnections,
      fingerprint: digest,
      unreachableRules: read.unreachableRules,
    };
  };

  // The loops are in plain functions, resumed where the last slice stopped: V8 cannot switch a running
  // generator to optimised code (no on-stack replacement), so a loop inside one stays unoptimised for
  // the whole build, and an unoptimised for-of allocates at every step.
  const ladderChains = Array.from(ladders.keys());
  const ladderSuffixes = Array.from(ladders.values());
  let next = 0;
  const readLadders = (): boolean => {
    while (next < ladderChains.length) {
      const read = readLadder(ladderChains[next] as string, ladderSuffixes[next] as string);
      next++;
      if (meter.add(1 + read.rules.length)) return false;
    }
    return true;
  };
  const nameGroups = (): boolean => {
    while (next < groupList.length) {
      const g = groupList[next++] as ServicePortGroup;
      if (g.ladderChains.length === 0) continue;
      nameGroup(g);
      if (meter.add(3)) return false;
    }
    return true;
  };
  const result: Ladder[] = [];
  let reuse: LadderReuse | undefined;
  const buildLadders = (): boolean => {
    while (next < ladderChains.length) {
      const built = buildLadder(ladderChains[next] as string, ladderSuffixes[next] as string, next);
      const ladder = reuse === undefined ? built : reuse.take(built, addressStarts[next] as number);
      next++;
      result.push(ladder);
      if (meter.add(1 + ladder.endpoints.length)) return false;
    }
    return true;
  };
  while (!readLadders()) yield;
  // One address per ladder rule: as many as the endpoints the build makes.
  if (options.reuseLadders !== undefined && hasCounters) reuse = new LadderReuse(options.reuseLadders, addresses.length);
  // Every ladder rule's endpoint is resolved: the KUBE-SEP folds are not read again.
  if (releaseLadder !== undefined) options.releaseEndpointChains?.();
  next = 0;
  while (!nameGroups()) yield;
  next = 0;
  while (!buildLadders()) yield;
  reuse?.arrange(result);
  // Sliced as well: 20,000 ladders sort in one go in ~25 ms at best, and a GC landing in it at the peak
  // of a parsed read made it a 100 ms stretch.
  yield* sortSteps(result, compareLadders);
  if (suppressedWarnings > 0) warnings.push(`... and ${suppressedWarnings} more model warnings`);
  const model: ServiceModel = { ipFamily, ladders: result, skipped: dump.skipped, hasCounters, warnings };
  return reuse === undefined ? model : yield* reuse.modelInSlices(model, meter);
}
