import type { JobDefinition } from "../contracts/index.js";
import { TimeSlices } from "./time-slices.js";

/** What a reload changes, by job name. */
export interface ManifestDiff {
  added: string[];
  removed: string[];
  /** Jobs whose schedule or enablement changed: their timers are replaced. */
  rescheduled: string[];
  /** Jobs with other changes (params, timeout, mode, handler, ...): apply from the next run. */
  changed: string[];
}

/** Compares job by job, in time slices (see time-slices.ts): the main thread keeps firing meanwhile. */
export async function diffJobs(before: readonly JobDefinition[], after: readonly JobDefinition[], slices = new TimeSlices()): Promise<ManifestDiff> {
  const old = new Map(before.map((j) => [j.name, j]));
  const diff: ManifestDiff = { added: [], removed: [], rescheduled: [], changed: [] };
  for (const job of after) {
    await slices.pause();
    const previous = old.get(job.name);
    if (!previous) diff.added.push(job.name);
    else if (scheduleKey(previous) !== scheduleKey(job)) diff.rescheduled.push(job.name);
    else if (JSON.stringify(previous) !== JSON.stringify(job)) diff.changed.push(job.name);
    old.delete(job.name);
  }
  diff.removed = [...old.keys()];
  return diff;
}

function scheduleKey(job: JobDefinition): string {
  return JSON.stringify([job.schedule, job.enabled]);
}

export function isEmptyDiff(diff: ManifestDiff): boolean {
  return diff.added.length + diff.removed.length + diff.rescheduled.length + diff.changed.length === 0;
}

/** "+a -b ~c (rescheduled) ~d, 1 handler rebuilt" for the one log line of a reload. */
export function describeDiff(diff: ManifestDiff, rebuilt: number): string {
  const parts = [
    ...diff.added.map((n) => `+${n}`),
    ...diff.removed.map((n) => `-${n}`),
    ...diff.rescheduled.map((n) => `~${n} (rescheduled)`),
    ...diff.changed.map((n) => `~${n}`),
  ];
  if (rebuilt > 0) parts.push(`${rebuilt} handler${rebuilt === 1 ? "" : "s"} rebuilt`);
  return parts.join(", ") || "no changes";
}
