import { describe, expect, it } from 'vitest';
import { analyze as realAnalyze } from '../../src/analysis/analyze.js';
import { buildServiceModel, type BuildServiceModelOptions } from '../../src/model/build-service-model.js';
import { createChainFolding } from '../../src/model/chain-folding.js';
import type { ServiceModel } from '../../src/model/types.js';
import { parseDump } from '../../src/iptables/parse-dump.js';
import type { IpFamily } from '../../src/iptables/types.js';
import type { Logger } from '../../src/logger-types.js';
import { Sampler, type AnalyzeFn } from '../../src/sampler.js';
import { adaptiveIntervalSeconds } from '../../src/sampler/adaptive-interval.js';
import type { FamilyRead, FamilyReadOk, SampleSource } from '../../src/source/sample-source.js';
import { SaveError } from '../../src/source/save-error.js';
import type { Snapshot } from '../../src/snapshot.js';
import { IPV4_DUMP, IPV6_DUMP } from '../source/dump-texts.js';
import { FakeClock, settle } from './fake-clock.js';

function ok(ipFamily: IpFamily, text: string, costSeconds = 0.05): FamilyRead {
  return { ok: true, ipFamily, backend: 'nft', command: 'x', dump: parseDump(text), outputBytes: text.length, durationSeconds: costSeconds, costSeconds, stderrTail: '' };
}

function failed(ipFamily: IpFamily, code: 'EXIT' | 'TIMEOUT' = 'EXIT', stage: 'save' | 'parse' = 'save'): FamilyRead {
  const error = new SaveError(code, 'exited with code 1', { command: 'iptables-nft-save -c -t nat', exitCode: 1, stderrTail: 'boom' });
  return { ok: false, ipFamily, backend: 'nft', command: 'x', error, stage, outputBytes: 0, durationSeconds: 0.01, costSeconds: 0.01 };
}

/** A source whose answers the test scripts; records calls and whether two ever overlapped. */
class ScriptedSource {
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  signals: AbortSignal[] = [];
  private readonly queue: Array<(signal: AbortSignal) => Promise<readonly FamilyRead[]>> = [];
  private fallback: () => readonly FamilyRead[] = () => [ok('ipv4', IPV4_DUMP)];

  then(reads: readonly FamilyRead[] | (() => readonly FamilyRead[])): this {
    this.queue.push(async () => (typeof reads === 'function' ? reads() : reads));
    return this;
  }

  always(reads: () => readonly FamilyRead[]): this {
    this.fallback = reads;
    return this;
  }

  /** The next call hangs until released or aborted. */
  hang(): { release: (reads: readonly FamilyRead[]) => void } {
    let release: (reads: readonly FamilyRead[]) => void = () => {};
    this.queue.push(
      (signal) =>
        new Promise((resolve, reject) => {
          release = resolve;
          signal.addEventListener('abort', () => reject(new SaveError('ABORTED', 'aborted', { command: 'x' })));
        }),
    );
    return { release: (reads) => release(reads) };
  }

  readonly source: SampleSource = async (signal) => {
    this.calls++;
    this.signals.push(signal);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      const next = this.queue.shift();
      return next ? await next(signal) : this.fallback();
    } finally {
      this.inFlight--;
    }
  };
}

function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, ...(fields ? { fields } : {}) });
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function setup(script: ScriptedSource, options: { maxAgeSeconds?: number; analyze?: AnalyzeFn; logger?: Logger } = {}) {
  const clock = new FakeClock();
  const logger = options.logger ?? recordingLogger();
  const sampler = new Sampler({
    source: script.source,
    clock,
    logger,
    intervalSeconds: 10,
    maxAgeSeconds: options.maxAgeSeconds ?? 60,
    maxCpu: 0.1,
    ...(options.analyze ? { analyze: options.analyze } : {}),
  });
  const published: Snapshot[] = [];
  sampler.subscribe((s) => published.push(s));
  return { clock, sampler, published };
}

describe('adaptiveIntervalSeconds', () => {
  it.each([
    [10, 0, 0.1, 10],
    [10, 0.5, 0.1, 10],
    [10, 1, 0.1, 10],
    [10, 1.01, 0.1, 11],
    [10, 3.2, 0.1, 32],
    [10, 3.2, 0.5, 10],
    [5, 30, 0.1, 300],
  ])('min %s, cost %s s, max-cpu %s → %s s', (min, cost, maxCpu, expected) => {
    expect(adaptiveIntervalSeconds(min, cost, maxCpu)).toBe(expected);
  });
});

describe('Sampler', () => {
  it('counts successful iptables reads per family by how they were read (kube_balance_sample_reads_total)', async () => {
    const as = (read: FamilyRead, extra: Partial<FamilyRead>): FamilyRead => ({ ...read, ...extra }) as FamilyRead;
    const script = new ScriptedSource()
      .then([ok('ipv4', IPV4_DUMP), ok('ipv6', IPV6_DUMP)])
      .then([as(ok('ipv4', IPV4_DUMP), { readKind: 'refreshed' }), as(ok('ipv6', IPV6_DUMP), { readKind: 'reparsed' })])
      .then([as(ok('ipv4', IPV4_DUMP), { readKind: 'refreshed' }), failed('ipv6')])
      .then([as(ok('ipv4', IPV4_DUMP), { proxyMode: 'nftables' })]);
    const { sampler } = setup(script);
    for (let i = 0; i < 4; i++) await sampler.sampleNow();
    expect(sampler.snapshot.readsTotal).toEqual({ ipv4: { parsed: 1, refreshed: 2, reparsed: 0 }, ipv6: { parsed: 1, refreshed: 0, reparsed: 1 } });
    expect(Object.isFrozen(sampler.snapshot.readsTotal?.ipv4)).toBe(true);
  });

  it('samples at start, then every interval; publishes frozen snapshots', async () => {
    const script = new ScriptedSource();
    const { clock, sampler, published } = setup(script);
    expect(sampler.snapshot.lastSuccessTimestamp).toBeNull();
    expect(sampler.hasData).toBe(false);

    sampler.start();
    await settle();
    expect(script.calls).toBe(1);
    const first = sampler.snapshot;
    expect(published).toEqual([first]);
    expect(first.up).toBe(true);
    expect(first.stale).toBe(false);
    expect(first.samplesTotal).toBe(1);
    expect(first.lastSuccessTimestamp).toBe(clock.now() / 1000);
    expect(first.sampleIntervalSeconds).toBe(10);
    expect(first.families.map((f) => [f.ipFamily, f.ok])).toEqual([['ipv4', true]]);
    expect(first.analysis?.ladders.map((l) => l.ladder.chain)).toEqual(['KUBE-SVC-ABCDEFGHIJKLMNOP']);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.errorsTotal)).toBe(true);
    expect(sampler.hasData).toBe(true);

    await clock.advance(9_999);
    expect(script.calls).toBe(1);
    await clock.advance(1);
    expect(script.calls).toBe(2);
    expect(sampler.snapshot).not.toBe(first);
    expect(first.samplesTotal).toBe(1); // a published snapshot never changes
    await sampler.stop();
  });

  it('stretches the interval while saves are slow, and logs each change', async () => {
    const logger = recordingLogger();
    const script = new ScriptedSource()
      .then([ok('ipv4', IPV4_DUMP, 2.5)]) // 2.5 s of CPU at 10% → 25 s
      .then([ok('ipv4', IPV4_DUMP, 2.5)])
      .then([ok('ipv4', IPV4_DUMP, 0.2)]);
    const { clock, sampler } = setup(script, { logger });
    sampler.start();
    await settle();
    expect(sampler.snapshot.sampleIntervalSeconds).toBe(25);

    await clock.advance(24_000);
    expect(script.calls).toBe(1);
    await clock.advance(1_000);
    expect(script.calls).toBe(2);
    await clock.advance(25_000);
    expect(script.calls).toBe(3);
    expect(sampler.snapshot.sampleIntervalSeconds).toBe(10);

    const changes = logger.lines.filter((l) => l.msg === 'sample interval changed');
    expect(changes.map((l) => [l.fields?.previous_seconds, l.fields?.interval_seconds])).toEqual([
      [10, 25],
      [25, 10],
    ]);
    await sampler.stop();
  });

  it('keeps serving the last good analysis after failures, until it is older than max-age', async () => {
    const script = new ScriptedSource().then([ok('ipv4', IPV4_DUMP)]).always(() => [failed('ipv4')]);
    const { clock, sampler } = setup(script, { maxAgeSeconds: 25 });
    sampler.start();
    await settle();
    const good = sampler.snapshot;

    await clock.advance(10_000);
    const afterFailure = sampler.snapshot;
    expect(afterFailure.analysis).toBe(good.analysis);
    expect(afterFailure.lastSuccessTimestamp).toBe(good.lastSuccessTimestamp);
    expect(afterFailure.up).toBe(false);
    expect(afterFailure.stale).toBe(false);
    expect(afterFailure.families[0]?.ok).toBe(false);
    expect(afterFailure.families[0]?.error).toContain('exited with code 1');
    expect(afterFailure.errorsTotal.save).toBe(1);

    await clock.advance(10_000); // 20 s old
    expect(sampler.snapshot.stale).toBe(false);
    await clock.advance(10_000); // 30 s old > 25 s
    expect(sampler.snapshot.stale).toBe(true);
    expect(sampler.snapshot.analysis).toBe(good.analysis);
    expect(sampler.snapshot.errorsTotal.save).toBe(3);
    expect(sampler.snapshot.samplesTotal).toBe(4);
    await sampler.stop();
  });

  it('recovers: fresh data clears stale and up comes back', async () => {
    const script = new ScriptedSource()
      .then([ok('ipv4', IPV4_DUMP)])
      .then([failed('ipv4', 'TIMEOUT')])
      .then([failed('ipv4', 'TIMEOUT')])
      .then([ok('ipv4', IPV4_DUMP)]);
    const { clock, sampler } = setup(script, { maxAgeSeconds: 15 });
    sampler.start();
    await settle();
    await clock.advance(20_000);
    expect(sampler.snapshot.stale).toBe(true);
    await clock.advance(10_000);
    expect(sampler.snapshot.stale).toBe(false);
    expect(sampler.snapshot.up).toBe(true);
    expect(sampler.snapshot.errorsTotal.save).toBe(2);
    await sampler.stop();
  });

  it('never overlaps saves: a slow one delays the next, and sampleNow() joins the one in flight', async () => {
    const script = new ScriptedSource();
    const slow = script.hang();
    const { clock, sampler } = setup(script);
    sampler.start();
    await settle();
    await clock.advance(120_000);
    expect(script.calls).toBe(1);
    const joined = sampler.sampleNow();
    expect(script.calls).toBe(1);

    slow.release([ok('ipv4', IPV4_DUMP)]);
    const snapshot = await joined;
    expect(snapshot).toBe(sampler.snapshot);
    // The slow sample ran long past its interval: the next one starts right after it, not concurrently.
    await clock.advance(0);
    expect(script.calls).toBe(2);
    expect(script.maxInFlight).toBe(1);
    await sampler.stop();
  });

  it('counts errors by stage: save, parse, model, analysis, render', async () => {
    let analyzeFails = false;
    const script = new ScriptedSource()
      .then([failed('ipv4', 'EXIT', 'parse')])
      .then([ok('ipv4', IPV4_DUMP), failed('ipv6')])
      .then([ok('ipv4', IPV4_DUMP)]);
    const analyze: AnalyzeFn = (...args) => {
      if (analyzeFails) throw new Error('analysis bug');
      return realAnalyze(...args);
    };
    const { clock, sampler } = setup(script, { analyze });
    let listenerThrows = true;
    sampler.subscribe(() => {
      if (listenerThrows) {
        listenerThrows = false;
        throw new Error('render failed');
      }
    });
    sampler.start();
    await settle();
    expect(sampler.snapshot.errorsTotal).toMatchObject({ parse: 1, save: 0, render: 0 });

    await clock.advance(10_000);
    // The render failure of the first snapshot shows in the next one.
    expect(sampler.snapshot.errorsTotal).toEqual({ save: 1, parse: 1, model: 0, analysis: 0, render: 1 });

    analyzeFails = true;
    await clock.advance(10_000);
    expect(sampler.snapshot.errorsTotal.analysis).toBe(1);
    expect(sampler.snapshot.up).toBe(false);
    await sampler.stop();
  });

  it("counts a model failure under 'model' and keeps the family's last model", async () => {
    const clock = new FakeClock();
    let fail = false;
    const models: number[] = [];
    const script = new ScriptedSource();
    const sampler = new Sampler({
      source: script.source,
      clock,
      buildModel: (dump, family) => {
        if (fail) throw new Error('model bug');
        return buildServiceModel(dump, family);
      },
      analyze: (state, m, now, options) => {
        models.push(m.length);
        return realAnalyze(state, m, now, options);
      },
    });
    sampler.start();
    await settle();
    fail = true;
    await clock.advance(10_000);
    expect(sampler.snapshot.errorsTotal.model).toBe(1);
    expect(sampler.snapshot.families[0]?.error).toBe('model bug');
    // No fresh model at all: analysis is not run, the previous result stays.
    expect(models).toEqual([1]);
    await sampler.stop();
  });

  it("reports a source's failed model build under 'model' without building again", async () => {
    const clock = new FakeClock();
    let builds = 0;
    const failedBuild: FamilyRead = { ...(ok('ipv4', IPV4_DUMP) as FamilyReadOk), modelError: new Error('spent folds') };
    const script = new ScriptedSource().then([ok('ipv4', IPV4_DUMP)]).then([failedBuild]);
    const sampler = new Sampler({
      source: script.source,
      clock,
      buildModel: (dump, family) => {
        builds++;
        return buildServiceModel(dump, family);
      },
    });
    sampler.start();
    await settle();
    await clock.advance(10_000);
    expect(builds).toBe(1);
    expect(sampler.snapshot.errorsTotal.model).toBe(1);
    expect(sampler.snapshot.families[0]?.error).toBe('spent folds');
    await sampler.stop();
  });

  it('a family that fails while another succeeds is analysed from its last good model (no false reset)', async () => {
    const seen: string[][] = [];
    const analyze: AnalyzeFn = (state, models, now, options) => {
      seen.push(models.map((m) => `${m.ipFamily}:${m.ladders.length}`));
      return realAnalyze(state, models, now, options);
    };
    const script = new ScriptedSource()
      .then([ok('ipv4', IPV4_DUMP), ok('ipv6', IPV6_DUMP)])
      .then([ok('ipv4', IPV4_DUMP), failed('ipv6')]);
    const { clock, sampler } = setup(script, { analyze });
    sampler.start();
    await settle();
    await clock.advance(10_000);
    expect(seen).toEqual([
      ['ipv4:1', 'ipv6:1'],
      ['ipv4:1', 'ipv6:1'],
    ]);
    expect(sampler.snapshot.resetsTotal).toBe(0);
    expect(sampler.snapshot.up).toBe(false);
    expect(sampler.snapshot.families.map((f) => [f.ipFamily, f.ok])).toEqual([
      ['ipv4', true],
      ['ipv6', false],
    ]);
    await sampler.stop();
  });

  it('stop() aborts an in-flight sample: nothing is published and no sample follows', async () => {
    const script = new ScriptedSource();
    script.hang();
    const { clock, sampler, published } = setup(script);
    sampler.start();
    await settle();
    await sampler.stop();
    expect(script.signals[0]?.aborted).toBe(true);
    expect(published).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(script.calls).toBe(1);
  });

  it('stop({ abortInFlight: false }) lets the sample finish and publishes it', async () => {
    const script = new ScriptedSource();
    const slow = script.hang();
    const { clock, sampler, published } = setup(script);
    sampler.start();
    await settle();
    const stopping = sampler.stop({ abortInFlight: false });
    slow.release([ok('ipv4', IPV4_DUMP)]);
    await stopping;
    expect(script.signals[0]?.aborted).toBe(false);
    expect(published).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a source that throws counts as a failed save and the loop goes on', async () => {
    let calls = 0;
    const clock = new FakeClock();
    const sampler = new Sampler({
      clock,
      source: async () => {
        calls++;
        throw new Error('source bug');
      },
    });
    sampler.start();
    await settle();
    await clock.advance(10_000);
    expect(calls).toBe(2);
    expect(sampler.snapshot.errorsTotal.save).toBe(2);
    expect(sampler.snapshot.up).toBe(false);
    await sampler.stop();
  });
});

describe('Sampler with chains folded by the source', () => {
  it('passes the read’s folded chains to buildModel, to be released as it builds, which gives the plain model', async () => {
    const folding = createChainFolding();
    const dump = parseDump(IPV4_DUMP, folding.parserOptions);
    const folded = folding.finish();
    expect(folded.endpointChains.size).toBeGreaterThan(0);
    expect(folded.ladderChains.size).toBeGreaterThan(0);
    const read: FamilyRead = { ...ok('ipv4', IPV4_DUMP), dump, folded } as FamilyRead;
    const built: Array<{ model: ServiceModel; options: BuildServiceModelOptions | undefined }> = [];
    const clock = new FakeClock();
    const sampler = new Sampler({
      source: new ScriptedSource().always(() => [read]).source,
      clock,
      buildModel: (d, family, options) => {
        const model = buildServiceModel(d, family, options);
        built.push({ model, options });
        return model;
      },
    });
    sampler.start();
    await settle();
    await sampler.stop();
    // The build releases the folds (a read is built once), which records the ladder cache for the next parse.
    expect(built[0]?.options).toStrictEqual({ ...folded, releaseFolds: true });
    expect(built[0]?.model).toStrictEqual(buildServiceModel(parseDump(IPV4_DUMP), 'ipv4'));
  });
});
