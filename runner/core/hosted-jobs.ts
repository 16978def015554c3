import type { ActiveJob, Executor, RunRequest } from "../contracts/index.js";

/** A job defined outside the manifest (a class job), run by an executor of its own. */
export interface HostedJob extends ActiveJob {
  /** Runs each attempt of this job; the core's executors are not asked. */
  executor: Executor;
}

/**
 * The jobs hosted beside the manifest's, and the executor the dispatcher sees for one mode:
 * a hosted job's runs go to its own executor, every other run to the mode's. One map
 * lookup only while some job is hosted.
 */
export class HostedJobs {
  private readonly jobs = new Map<string, HostedJob>();

  get(name: string): HostedJob | undefined {
    return this.jobs.get(name);
  }

  get size(): number {
    return this.jobs.size;
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  set(job: HostedJob): void {
    this.jobs.set(job.def.name, job);
  }

  delete(name: string): boolean {
    return this.jobs.delete(name);
  }

  values(): IterableIterator<HostedJob> {
    return this.jobs.values();
  }

  /** `base` for manifest jobs, each hosted job's own executor for its runs (the dispatcher only runs; the core closes `base`). */
  routing(base: Executor): Executor {
    const jobs = this.jobs;
    return {
      run(req: RunRequest): Promise<unknown> {
        const hosted = jobs.size > 0 ? jobs.get(req.job) : undefined;
        return hosted ? hosted.executor.run(req) : base.run(req);
      },
      close: () => base.close(),
    };
  }
}
