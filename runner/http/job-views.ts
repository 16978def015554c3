import { listJob, type JobListing } from "../listing/job-listing.js";
import type { RunRecord } from "../contracts/index.js";
import type { RunnerView } from "./runner-view.js";

/** `GET /api/jobs`: a job as `list --json` gives it, with its pause state and newest run. */
export interface JobView extends JobListing {
  paused: boolean;
  lastRun: RunRecord | null;
  lastStatus: RunRecord["status"] | null;
  lastRunAt: string | null;
}

/** Next fire times per job, as many as `list --json` shows by default. */
const NEXT_FIRES = 5;

/** Every job of the runner as `GET /api/jobs` and the dashboard's first state show it. */
export async function jobViews(runner: RunnerView, now = new Date()): Promise<JobView[]> {
  const lastRuns = await runner.store.lastRuns();
  return runner.jobs.map((job) => {
    const last = lastRuns.get(job.name) ?? null;
    return {
      ...listJob(job, NEXT_FIRES, now),
      lastStatus: last?.status ?? null,
      lastRunAt: last ? (last.startedAt ?? last.scheduledAt) : null,
      paused: runner.isPaused(job.name),
      lastRun: last,
    };
  });
}
