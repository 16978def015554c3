import type { ActiveJob, RunRecord } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import type { AfterIndex } from "../schedule/index.js";
import type { RunCore } from "./run-core.js";

export interface AfterChainsOptions {
  core: Pick<RunCore, "active" | "paused" | "dispatcher">;
  /** The `after` edges of the running manifest (a reload replaces them). */
  after(): AfterIndex;
  /** Only while the runner is started and not stopping: `runlet invoke` runs one job. */
  isLive(): boolean;
  logger: Logger;
}

/** Starts the jobs a manifest says run after another job's run ended (`after:`). */
export class AfterChains {
  constructor(private readonly options: AfterChainsOptions) {}

  /**
   * Starts the jobs that run after the run that ended as `record` (its final attempt: a
   * retry is not an end). A disabled or paused downstream job is not started, as it would
   * not fire.
   */
  start(record: RunRecord): void {
    const { core, logger } = this.options;
    // Most manifests have no `after`: a run's end costs them no lookup.
    const after = this.options.after();
    if (after.isEmpty || !this.options.isLive()) return;
    const jobs: ActiveJob[] = [];
    for (const name of after.startedBy(record)) {
      const job = core.active.get(name);
      if (job && job.def.enabled && !core.paused.has(name)) jobs.push(job);
    }
    if (jobs.length === 0) return;
    try {
      core.dispatcher.afterAll(jobs, record);
    } catch (err) {
      logger.error({ err, upstream: record.job, upstreamRunId: record.runId }, "starting the jobs after a run failed");
    }
  }
}
