/** JobLimiter: at most N jobs at once, in order, results and errors passed through. */
import { describe, expect, it } from 'vitest';
import { JobLimiter } from '../../src/metrics/job-limiter.js';

describe('JobLimiter', () => {
  it('runs at most `concurrency` jobs at once, in the order asked, and passes results and errors through', async () => {
    const limiter = new JobLimiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const job = (i: number) => async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      if (i === 3) throw new Error('job 3');
      return i;
    };
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map((i) => limiter.run(job(i))));
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([0, 1, 2, 'job 3', 4, 5]);
  });

  it('a job that throws synchronously rejects its promise and frees its slot', async () => {
    const limiter = new JobLimiter(1);
    await expect(
      limiter.run(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});
