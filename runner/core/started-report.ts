import type { JobDefinition } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";

/** Jobs named in the "runner started" line; a 100,000-job manifest gets a count, not a list. */
const STARTED_JOBS_LISTED = 20;

export interface StartedReportOptions {
  manifest: string;
  env: string;
  /** Every job, manifest and class jobs. */
  jobs: readonly JobDefinition[];
  /** Jobs with a schedule. */
  scheduled: number;
  nextFireOf(job: string): Date | null;
  logger: Logger;
}

/**
 * Logs "runner started" with the jobs and the first fire, so a glance at the log says what
 * will happen; returns what the `started` event carries.
 */
export function reportStarted({ manifest, env, jobs: defs, scheduled, nextFireOf, logger }: StartedReportOptions): { manifest: string; env: string; jobs: number; scheduled: number } {
  const jobs = defs.map((job) => ({ job: job.name, next: nextFireOf(job.name) }));
  const first = jobs.filter((j) => j.next !== null).sort((a, b) => a.next!.getTime() - b.next!.getTime())[0];
  const names = jobs.slice(0, STARTED_JOBS_LISTED).map((j) => j.job);
  if (jobs.length > STARTED_JOBS_LISTED) names.push(`and ${jobs.length - STARTED_JOBS_LISTED} more`);
  const nextFire = first ? { job: first.job, at: first.next!.toISOString() } : null;
  const started = { manifest, env, jobs: jobs.length, scheduled };
  logger.info({ event: "started", ...started, names, nextFire }, "runner started");
  return started;
}
