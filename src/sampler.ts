/** The sampling loop: one save at a time, adaptive interval, last good data kept until stale, Snapshots swapped whole. */
import { DEFAULT_ANALYSIS_OPTIONS, analyzeInSlices } from './analysis/analyze.js';
import type { AnalysisOptions, AnalysisResult, AnalysisState } from './analysis/types.js';
import type { IpFamily, ParsedDump, SkipReason } from './iptables/types.js';
import { silentLogger, type Logger } from './logger-types.js';
import { buildServiceModelInSlices, type BuildServiceModelOptions } from './model/build-service-model.js';
import type { ModelEnricher } from './kube/kube-enricher.js';
import type { KubeSnapshot } from './kube/types.js';
import type { ServiceModel } from './model/types.js';
import { adaptiveIntervalSeconds } from './sampler/adaptive-interval.js';
import { systemClock, type Clock } from './sampler/clock.js';
import { buildSnapshot, initialSnapshot, zeroErrors } from './sampler/snapshot-build.js';
import { runInSlices, type SliceOptions, yieldToEventLoop } from './slices.js';
import type { FamilyRead, SampleSource } from './source/sample-source.js';
import { isSaveError } from './source/save-error.js';
import type { FamilySample, ReadKind, SampleStage, Snapshot } from './snapshot.js';

export type { Clock } from './sampler/clock.js';

export type AnalyzeFn = (
  state: AnalysisState | undefined,
  models: readonly ServiceModel[],
  nowSeconds: number,
  options: AnalysisOptions,
) => { state: AnalysisState; result: AnalysisResult };

export interface SamplerOptions {
  readonly source: SampleSource;
  /** --sample.interval: the minimum seconds between sample starts (default 10). */
  readonly intervalSeconds?: number;
  /** --sample.max-age: serve the last good data until it is this old (default 120). */
  readonly maxAgeSeconds?: number;
  /** --sample.max-cpu: fraction of one core the saves may use (default 0.1). */
  readonly maxCpu?: number;
  readonly analysisOptions?: AnalysisOptions;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /**
   * Replaces the model build (tests), called synchronously; gets the read's `folded` chains when the
   * source folded them while parsing. By default buildServiceModel runs in slices, like the analysis.
   */
  readonly buildModel?: (dump: ParsedDump, ipFamily: IpFamily, options?: BuildServiceModelOptions) => ServiceModel;
  /**
   * Replaces the analysis (tests), called synchronously. By default the real one runs in slices
   * (`analyzeInSlices`) with a turn of the event loop between them, so scrapes are answered meanwhile.
   */
  readonly analyze?: AnalyzeFn;
  /** Kubernetes API enrichment (names for comment-less ladders, endpoint info, drift); none by default. */
  readonly enricher?: ModelEnricher;
  /** How long a sliced stage runs before the event loop gets a turn (runInSlices; default 20 ms, 0: at every checkpoint). */
  readonly sliceMs?: number;
}

export type SnapshotListener = (snapshot: Snapshot) => void;

interface FamilyLogState {
  error: string | null;
  warnings: string;
}

/**
 * Call start() once; every sample builds a new frozen Snapshot and hands it to the listeners. A
 * listener that throws (the metrics page failing to render) is logged and counted under stage
 * `render` in the next snapshot; the others still get it.
 */
export class Sampler {
  private readonly source: SampleSource;
  private readonly minIntervalSeconds: number;
  private readonly maxAgeSeconds: number;
  private readonly maxCpu: number;
  private readonly analysisOptions: AnalysisOptions;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly buildModel: ((dump: ParsedDump, ipFamily: IpFamily, options?: BuildServiceModelOptions) => ServiceModel) | null;
  private readonly analyze: AnalyzeFn | null;
  private readonly sliceMs: number | undefined;
  private readonly enricher: ModelEnricher | null;
  private lastKube: KubeSnapshot | null = null;
  private readonly listeners = new Set<SnapshotListener>();

  private current: Snapshot;
  private analysisState: AnalysisState | undefined;
  private lastAnalysis: AnalysisResult | null = null;
  private lastSuccessTimestamp: number | null = null;
  /** The last model read per family: stands in for a family whose save failed, so analysis sees no false reset. */
  private readonly lastGoodModels = new Map<IpFamily, ServiceModel>();
  private readonly familyLog = new Map<IpFamily, FamilyLogState>();
  private readonly errorsTotal = zeroErrors();
  private readonly skippedTotal: Partial<Record<SkipReason, number>> = {};
  private readonly readsTotal: Partial<Record<IpFamily, Record<ReadKind, number>>> = {};
  private resetsTotal = 0;
  private samplesTotal = 0;
  private intervalSeconds: number;

  private started = false;
  private stopped = false;
  private timer: unknown = null;
  private inFlight: Promise<Snapshot | null> | null = null;
  private controller: AbortController | null = null;

  constructor(options: SamplerOptions) {
    this.source = options.source;
    this.minIntervalSeconds = options.intervalSeconds ?? 10;
    this.maxAgeSeconds = options.maxAgeSeconds ?? 120;
    this.maxCpu = options.maxCpu ?? 0.1;
    this.analysisOptions = options.analysisOptions ?? DEFAULT_ANALYSIS_OPTIONS;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.buildModel = options.buildModel ?? null;
    this.analyze = options.analyze ?? null;
    this.sliceMs = options.sliceMs;
    this.enricher = options.enricher ?? null;
    this.intervalSeconds = this.minIntervalSeconds;
    this.current = initialSnapshot(this.clock.now() / 1000, this.intervalSeconds);
  }

  /** The latest Snapshot (the initial empty one before the first sample). Never mutated. */
  get snapshot(): Snapshot {
    return this.current;
  }

  /** True once a sample has read data (the server's readiness). */
  get hasData(): boolean {
    return this.lastSuccessTimestamp !== null;
  }

  /** Subscribes to every new Snapshot; returns the unsubscribe function. */
  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the first sample now, then keeps sampling until stop(). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.loop();
  }

  /**
   * Takes one sample now unless one is in flight, in which case it returns that one's result: two
   * saves never overlap. Resolves to the new Snapshot, or null when the sample was aborted.
   */
  sampleNow(): Promise<Snapshot | null> {
    if (this.inFlight !== null) return this.inFlight;
    if (this.stopped) return Promise.resolve(null);
    const controller = new AbortController();
    this.controller = controller;
    this.inFlight = this.sample(controller.signal).finally(() => {
      this.inFlight = null;
      this.controller = null;
    });
    return this.inFlight;
  }

  /**
   * Stops the loop. An in-flight sample is aborted (its child killed; nothing is published) unless
   * `abortInFlight` is false, in which case it is allowed to finish. Resolves once it has settled.
   */
  async stop(options: { abortInFlight?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    const inFlight = this.inFlight;
    if (inFlight === null) return;
    if (options.abortInFlight ?? true) this.controller?.abort();
    await inFlight.catch(() => undefined);
  }

  private async loop(): Promise<void> {
    if (this.stopped) return;
    const startedMs = this.clock.now();
    try {
      await this.sampleNow();
    } catch (error) {
      // sample() handles every stage's errors; this is a bug, but the loop must go on.
      this.logger.error('sample crashed', { error: String(error) });
    }
    if (this.stopped) return;
    // Intervals run start to start; never before the previous sample ended (it just did).
    const delay = Math.max(0, startedMs + this.intervalSeconds * 1000 - this.clock.now());
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, delay);
  }

  private async sample(signal: AbortSignal): Promise<Snapshot | null> {
    const startedMs = this.clock.now();
    let reads: readonly FamilyRead[];
    try {
      reads = await this.source(signal);
    } catch (error) {
      if (signal.aborted || isSaveError(error, 'ABORTED')) return null;
      // A source should report failures per family; one that throws failed as a whole.
      this.errorsTotal.save++;
      this.logger.error('sample source failed', { error: String(error) });
      reads = [];
    }
    if (signal.aborted) return null;

    const nowMs = this.clock.now();
    const nowSeconds = nowMs / 1000;
    const slicing: SliceOptions = { signal, sliceMs: this.sliceMs };
    const families: FamilySample[] = [];
    const freshModels = new Map<IpFamily, ServiceModel>();
    let allOk = reads.length > 0;
    let costSeconds = 0;

    for (const read of reads) {
      costSeconds += read.costSeconds;
      let error: Error | null = read.ok ? null : read.error;
      let stage: SampleStage | null = read.ok ? null : read.stage;
      if (read.ok) {
        try {
          // The source's own build failed: its folded chains are spent, so it is not built again.
          if (read.modelError !== undefined) throw read.modelError;
          // runInSlices lets scrapes in before it starts, and between slices. The build releases the
          // folds as it goes (they are built once), which also records the ladder cache for the next parse.
          const buildOptions = read.folded === undefined ? {} : { ...read.folded, releaseFolds: true };
          const model =
            read.model ??
            (this.buildModel === null
              ? await runInSlices(buildServiceModelInSlices(read.dump, read.ipFamily, buildOptions), slicing)
              : this.buildModel(read.dump, read.ipFamily, buildOptions));
          freshModels.set(read.ipFamily, model);
        } catch (modelError) {
          // Stopped while the model was built: like an aborted save, nothing is kept or published.
          if (signal.aborted) return null;
          error = modelError instanceof Error ? modelError : new Error(String(modelError));
          stage = 'model';
        }
        for (const skipped of read.dump.skipped) this.skippedTotal[skipped.reason] = (this.skippedTotal[skipped.reason] ?? 0) + 1;
        // iptables reads only: an nftables-mode read is not parsed from iptables-save output.
        if (read.proxyMode !== 'nftables') {
          const kinds = (this.readsTotal[read.ipFamily] ??= { parsed: 0, refreshed: 0, reparsed: 0 });
          kinds[read.readKind ?? 'parsed']++;
        }
      }
      if (stage !== null) {
        allOk = false;
        this.errorsTotal[stage]++;
      }
      this.logFamily(read, error, stage);
      families.push({
        ipFamily: read.ipFamily,
        backend: read.backend,
        ok: error === null,
        error: error === null ? null : error.message,
        skipped: read.ok ? read.dump.skipped : [],
        warnings: read.ok ? read.dump.warnings : [],
        outputBytes: read.outputBytes,
        durationSeconds: read.durationSeconds,
        ...(read.proxyMode !== undefined ? { proxyMode: read.proxyMode } : {}),
      });
    }

    if (freshModels.size > 0) {
      // A family that failed this time keeps its last model: its counters look unchanged rather than
      // vanished (a vanished ladder would read as a counter reset, and come back double-counted).
      let models: readonly ServiceModel[] = [];
      const collected: ServiceModel[] = [];
      for (const family of ['ipv4', 'ipv6'] as const) {
        const model = freshModels.get(family) ?? (reads.some((r) => r.ipFamily === family) ? this.lastGoodModels.get(family) : undefined);
        if (model !== undefined) collected.push(model);
      }
      models = collected;
      if (this.enricher !== null) {
        try {
          models = this.enricher.name(models);
          this.lastKube = this.enricher.snapshot(models);
        } catch (enrichError) {
          // Enrichment is optional: a failure here never stops the iptables numbers.
          this.logger.warn('kubernetes enrichment failed for this sample', { error: String(enrichError) });
        }
      }
      try {
        const step =
          this.analyze === null
            ? await runInSlices(analyzeInSlices(this.analysisState, models, nowSeconds, this.analysisOptions), slicing)
            : this.analyze(this.analysisState, models, nowSeconds, this.analysisOptions);
        this.analysisState = step.state;
        this.lastAnalysis = step.result;
        this.resetsTotal += step.result.resetsThisSample;
        this.lastSuccessTimestamp = nowSeconds;
        for (const [family, model] of freshModels) this.lastGoodModels.set(family, model);
      } catch (analysisError) {
        // Stopped while the analysis ran: like an aborted save, nothing is kept or published.
        if (signal.aborted) return null;
        allOk = false;
        this.errorsTotal.analysis++;
        this.logger.error('analysis failed: serving the previous results', { error: String(analysisError) });
      }
    }
    this.samplesTotal++;

    this.updateInterval(costSeconds);
    const stale = this.lastSuccessTimestamp !== null && nowSeconds - this.lastSuccessTimestamp > this.maxAgeSeconds;
    const snapshot = buildSnapshot({
      lastSuccessTimestamp: this.lastSuccessTimestamp,
      timestamp: nowSeconds,
      allFamiliesOk: allOk,
      stale,
      sampleDurationSeconds: (nowMs - startedMs) / 1000,
      sampleIntervalSeconds: this.intervalSeconds,
      families,
      analysis: this.lastAnalysis,
      errorsTotal: this.errorsTotal,
      resetsTotal: this.resetsTotal,
      skippedTotal: this.skippedTotal,
      samplesTotal: this.samplesTotal,
      readsTotal: this.readsTotal,
      kube: this.lastKube,
    });
    if (stale && !this.current.stale) {
      this.logger.warn('data is stale: ladder series withheld until a sample succeeds', { max_age_seconds: this.maxAgeSeconds });
    }
    this.current = snapshot;
    await yieldToEventLoop();
    this.publish(snapshot);
    return snapshot;
  }

  private publish(snapshot: Snapshot): void {
    for (const listener of this.listeners) {
      try {
        listener(snapshot);
      } catch (error) {
        this.errorsTotal.render++;
        this.logger.error('publishing the snapshot failed', { error: String(error) });
      }
    }
  }

  private updateInterval(costSeconds: number): void {
    // Never sample less often than twice per --sample.max-age: staleness is only re-evaluated when a
    // sample runs, so a longer interval (a hung save's wall time counted as cost) would serve data past
    // max-age as fresh. On such a node iptables-save may then exceed --sample.max-cpu; raise max-age.
    const next = Math.min(adaptiveIntervalSeconds(this.minIntervalSeconds, costSeconds, this.maxCpu), Math.max(this.minIntervalSeconds, this.maxAgeSeconds / 2));
    if (next === this.intervalSeconds) return;
    this.logger.info('sample interval changed', {
      interval_seconds: next,
      previous_seconds: this.intervalSeconds,
      save_cost_seconds: Number(costSeconds.toFixed(3)),
      max_cpu: this.maxCpu,
    });
    this.intervalSeconds = next;
  }

  /** Logs a family's failure when it changes (then quietly at debug), its recovery, and new dump warnings. */
  private logFamily(read: FamilyRead, error: Error | null, stage: SampleStage | null): void {
    const state = this.familyLog.get(read.ipFamily) ?? { error: null, warnings: '' };
    this.familyLog.set(read.ipFamily, state);
    if (error !== null) {
      const fields = { family: read.ipFamily, stage, command: read.command, ...(isSaveError(error) ? error.toLogFields() : {}), error: error.message };
      const message = this.lastSuccessTimestamp === null ? 'sample failed: no data yet' : 'sample failed: serving the last good data until it is stale';
      if (state.error !== error.message) this.logger.error(message, fields);
      else this.logger.debug('sample failed again', fields);
      state.error = error.message;
      return;
    }
    if (state.error !== null) this.logger.info('sample recovered', { family: read.ipFamily, command: read.command });
    state.error = null;
    if (read.ok) {
      const warnings = read.dump.warnings.join('\n');
      if (warnings !== state.warnings && warnings !== '') this.logger.warn('iptables-save output warnings', { family: read.ipFamily, command: read.command, warnings: read.dump.warnings });
      if (read.stderrTail !== '') this.logger.debug('iptables-save stderr', { family: read.ipFamily, stderr: read.stderrTail });
      state.warnings = warnings;
    }
  }
}
