import { describeSchedule, nextFires } from "../schedule/index.js";
import type { AfterEdge, JobDefinition } from "../contracts/index.js";

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
  /** The jobs whose ended runs start this one, and on which ends. */
  after: AfterEdge[];
  /** `after: extract (success)`, or null for a job that runs after none. */
  afterText: string | null;
  overlap: JobDefinition["overlap"];
  /** Runs in flight at once (`concurrency`); null: the overlap policy's own bound. */
  concurrency: number | null;
}

export function listJob(job: JobDefinition, count: number, now: Date): JobListing {
  const afterText = describeAfter(job.after);
  return {
    name: job.name,
    description: job.description,
    schedule: job.scheduleSource,
    // A job that only runs after others reads as that, not as "invoked manually only".
    human: afterText === null ? humanSchedule(job) : job.schedule ? `${humanSchedule(job)}; ${afterText}` : afterText,
    mode: job.mode,
    enabled: job.enabled,
    timezone: job.timezone,
    next: job.enabled && job.schedule ? nextFires(job.schedule, now, count).map((d) => d.toISOString()) : [],
    after: job.after,
    afterText,
    overlap: job.overlap,
    concurrency: job.concurrency,
  };
}

/** A schedule written with `${env:...}` reads as that: its reading would print the value. */
function humanSchedule(job: JobDefinition): string {
  const fromEnv = job.scheduleSource !== null && JSON.stringify(job.scheduleSource).includes("${env:");
  return fromEnv ? "Read from the environment" : describeSchedule(job.schedule);
}

/** `after: extract, load (success)`; edges of different `on` each in their own part. */
export function describeAfter(edges: readonly AfterEdge[]): string | null {
  if (edges.length === 0) return null;
  const byOn = new Map<string, string[]>();
  for (const edge of edges) byOn.set(edge.on, [...(byOn.get(edge.on) ?? []), edge.job]);
  return [...byOn].map(([on, jobs]) => `after: ${jobs.join(", ")} (${on})`).join("; ");
}
