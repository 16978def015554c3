/** One call waiting in a {@link TurnBatch}: answer it with `resolve` or `reject` as soon as its result is known. */
export interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

/**
 * Collects the calls made in one turn of the event loop and hands them over together, a
 * microtask after the first, in chunks of at most `max`. `decide` answers each call as
 * soon as it can; if it fails, the calls it had not answered yet reject with its error.
 *
 * A replica's scheduler starts every job of a fire in one synchronous pass, so the claims
 * of a thousand-job fire become one statement instead of a thousand.
 */
export class TurnBatch<T, R> {
  private waiting: Array<Waiting<T, R>> = [];

  constructor(
    private readonly decide: (chunk: Array<Waiting<T, R>>) => Promise<void>,
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
      // A promise settles once: rejecting the whole chunk reaches only the calls still open.
      const rejectOpen = (err: unknown) => chunk.forEach((c) => c.reject(err));
      this.decide(chunk).then(() => rejectOpen(new Error("TurnBatch: decide() left a call unanswered")), rejectOpen);
    }
  }
}
