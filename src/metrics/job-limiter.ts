/** Runs at most `concurrency` async jobs at once, in the order they were asked for (the page's zlib jobs). */
export class JobLimiter {
  private readonly concurrency: number;
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  run<T>(job: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        let pending: Promise<T>;
        try {
          pending = job();
        } catch (error) {
          pending = Promise.reject(error);
        }
        pending.then(resolve, reject).finally(() => {
          this.running--;
          this.queue.shift()?.();
        });
      };
      if (this.running < this.concurrency) start();
      else this.queue.push(start);
    });
  }
}
