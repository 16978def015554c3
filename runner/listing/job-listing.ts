import { describeSchedule, nextFires } from "../schedule/index.js";
import type { JobDefinition } from "../contracts/index.js";

/** A job as people and tools see it: `list --json` prints these; the HTTP API serves them. */
export interface JobListing {
  name: string;
  description: string;
  /** The schedule as written in the manifest. */
  schedule: unknown;
  /** Its plain-English reading. */
  human: string;
  mode: JobDefinition["mode"];
  /** Enabled in the runner's environment. */
  enabled: boolean;
  timezone: string | null;
  /** The next fires, ISO 8601 UTC; empty for disabled and invoke-only jobs. */
  next: string[];
}

export function listJob(job: JobDefinition, count: number, now: Date): JobListing {
  return {
    name: job.name,
    description: job.description,
    schedule: job.scheduleSource,
    human: describeSchedule(job.schedule),
    mode: job.mode,
    enabled: job.enabled,
    timezone: job.timezone,
    next: job.enabled && job.schedule ? nextFires(job.schedule, now, count).map((d) => d.toISOString()) : [],
  };
}
