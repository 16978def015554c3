/**
 * Collects the calls made in one turn of the event loop and hands them over together, a
 * microtask after the first, in chunks of at most `max`. Each caller gets its own result;
 * a chunk that fails rejects each of its callers with that error.
 *
 * A replica's scheduler starts every job of a fire in one synchronous pass, so the claims
 * of a thousand-job fire become one statement instead of a thousand.
 */
export class TurnBatch<T, R> {
  private waiting: Array<{ item: T; resolve: (result: R) => void; reject: (err: unknown) => void }> = [];

  constructor(
    private readonly decide: (items: T[]) => Promise<R[]>,
    private readonly max: number,
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) queueMicrotask(() => this.flush());
      this.waiting.push({ item, resolve, reject });
    });
  }

  private flush(): void {
    const all = this.waiting;
    this.waiting = [];
    for (let from = 0; from < all.length; from += this.max) {
      const chunk = all.slice(from, from + this.max);
      this.decide(chunk.map((c) => c.item)).then(
        (results) => chunk.forEach((c, i) => c.resolve(results[i]!)),
        (err: unknown) => chunk.forEach((c) => c.reject(err)),
      );
    }
  }
}
