/**
 * The base class of a worker module in the class-based API (see README "Jobs as classes").
 *
 * The module is imported twice: in the main thread, where runlet only asks the instance for
 * its file (`getFilename()`), and, compiled, in a worker thread of runlet's pool, where
 * runlet calls `run(task)` once per fire. The instance never listens on the `parentPort` it
 * was constructed with: in a pool worker that port is the pool's own channel to the main
 * thread. During a run, `this.parentPort` is a port of that run instead: what is posted on
 * it becomes the run's recorded result.
 *
 * This file imports nothing from npm and nothing else of runlet, so a worker module that
 * bundles it (a relative import) still loads from any build folder.
 */

/** What `this.parentPort` offers a worker: posting a structured-cloneable value. */
export interface WorkerPort {
  postMessage(value: unknown): void;
}

/** What a worker run hands back to the main thread (plain data: it crosses the thread by structured clone). */
export interface WorkerOutcome {
  /** What `run()` returned (`undefined` for `void`). */
  returned: unknown;
  /** What `run()` posted on `this.parentPort`, in order. */
  messages: unknown[];
}

/**
 * The method runlet's generated worker entry calls. A registered symbol rather than an
 * import: the worker bundle carries its own copy of this class, so neither `instanceof` nor
 * a module-private symbol would match across the two copies.
 */
export const RUN_TASK: unique symbol = Symbol.for("runlet.classic.runTask");

export abstract class AbstractBaseWorker<TIn, TOut> {
  #runPort: WorkerPort | null = null;

  /**
   * @param _parentPort `parentPort` of `node:worker_threads` (null in the main thread). Taken
   * so worker modules written for the original API construct as they did; deliberately not
   * kept: posting on a pool worker's own parentPort would reach the pool, not the job.
   */
  constructor(_parentPort?: WorkerPort | null) {}

  /** The worker module's own file (a path or a `file:` URL); runlet compiles it for the worker thread. */
  abstract getFilename(): string;

  /** Runs one task (a fire's date, for a ThreadJobFactory's worker), in a worker thread. A throw fails the run. */
  protected abstract run(task: TIn): TOut;

  /**
   * During a run: a port whose `postMessage(value)` adds `value` to the run's result. Outside
   * a run: `null` in the main thread, and also in a pool worker between runs.
   */
  protected get parentPort(): WorkerPort | null {
    return this.#runPort;
  }

  /**
   * Runs one task for runlet. A pool worker runs one task at a time, so one port slot is
   * enough. Messages are cloned when posted, as a real `postMessage` does: a value that
   * cannot cross a thread fails at the line that posts it, not later.
   */
  async [RUN_TASK](task: TIn): Promise<WorkerOutcome> {
    const messages: unknown[] = [];
    this.#runPort = { postMessage: (value) => void messages.push(structuredClone(value)) };
    try {
      const returned = await this.run(task);
      return { returned, messages };
    } finally {
      this.#runPort = null;
    }
  }
}
