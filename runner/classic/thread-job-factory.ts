import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import type { AbstractBaseWorker } from "./abstract-base-worker.js";
import { FACTORY_PARTS, type FactoryParts, type JobCallback } from "./factory-parts.js";
import { JobFactory } from "./job-factory.js";

/**
 * A class job whose work runs in a worker thread: each fire calls the worker's
 * `run(fireDate)` in a thread of runlet's pool (the one manifest jobs with `mode: thread`
 * use). runlet compiles the worker's file (`getFilename()`, .ts included) with the same
 * esbuild step as manifest handlers, when `create()` is called. A worker that throws, exits
 * or runs out of memory fails that run only; the job stays scheduled.
 */
export abstract class ThreadJobFactory extends JobFactory {
  /** The worker module's instance, as imported in the main thread (only its file is used here). */
  protected abstract getWorker(): AbstractBaseWorker<Date, unknown>;

  /** Runs the worker in a thread through runlet; this is also the manual trigger. */
  protected getJobCallback(): JobCallback {
    return async (fireDate) => void (await this.trigger(fireDate));
  }

  override [FACTORY_PARTS](): FactoryParts {
    return {
      ...super[FACTORY_PARTS](),
      workerFile: () => {
        const filename = this.getWorker().getFilename();
        return filename.startsWith("file:") ? fileURLToPath(filename) : resolve(filename);
      },
    };
  }
}
