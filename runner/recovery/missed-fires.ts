import { nextFire } from "../schedule/index.js";
import type { JobDefinition } from "../contracts/index.js";

/** Kubernetes' CronJob limit: a job that missed more fires than this catches up only the latest ones. */
export const MAX_CATCH_UP = 100;

/**
 * The fires of `job` missed while no runner was up: after `lastFireAt` and up to `now`,
 * younger than the job's starting deadline, per its `catchUp` policy. Pure: time is given.
 */
export function missedFires(job: JobDefinition, lastFireAt: Date | null, now: Date): { fires: Date[]; dropped: number } {
  if (job.catchUp === "none" || !job.enabled || !job.schedule || !lastFireAt) return { fires: [], dropped: 0 };
  const oldest = job.startingDeadlineMs === null ? -Infinity : now.getTime() - job.startingDeadlineMs;
  const missed: Date[] = [];
  let dropped = 0;
  // Fires older than the starting deadline are never run: start the walk there, so a job
  // that fires every second and was down for a month does not step through every second.
  const from = lastFireAt.getTime() >= oldest ? lastFireAt : new Date(oldest - 1);
  for (let fire = nextFire(job.schedule, from); fire && fire.getTime() <= now.getTime(); fire = nextFire(job.schedule, fire)) {
    if (fire.getTime() < oldest) continue;
    missed.push(fire);
    // Keep only the newest MAX_CATCH_UP without holding an unbounded list.
    if (missed.length > MAX_CATCH_UP) {
      missed.shift();
      dropped++;
    }
  }
  if (job.catchUp === "latest") return { fires: missed.slice(-1), dropped: dropped + Math.max(0, missed.length - 1) };
  return { fires: missed, dropped };
}
