import type { JobDefinition, RunTrigger } from "../contracts/index.js";
import { nextFire } from "../schedule/index.js";

/** At most this many of a job's unclaimed fires are claimed on takeover (the newest), as catch-up at start keeps 100. */
const MAX_TAKEOVER_FIRES = 100;

/**
 * The fires of a job taken over from a replica that died or left, after `since` and up to
 * `now` (wall ms), each with the trigger it is claimed under. They are late, so the job's
 * own rules say what happens to them, as for fires missed while no runner was up:
 * `catchUp: all` claims every one as a caught-up fire (its `startingDeadline` applies),
 * `latest` only the newest; the rest are claimed as scheduled fires, which the claim
 * records `skipped` (late) past the job's `lateness`, so no fire goes unaccounted for.
 * Fires for which `skip` is true (due while this replica could not claim) are left out.
 */
export function takeoverFires(def: JobDefinition, since: number, now: number, skip: (at: number) => boolean = () => false): Array<{ fireDate: Date; trigger: RunTrigger }> {
  if (!def.enabled || !def.schedule || since >= now) return [];
  const fires: Date[] = [];
  for (let fire = nextFire(def.schedule, new Date(since)); fire && fire.getTime() <= now; fire = nextFire(def.schedule, fire)) {
    if (skip(fire.getTime())) continue;
    fires.push(fire);
    if (fires.length > MAX_TAKEOVER_FIRES) fires.shift();
  }
  return fires.map((fireDate, i) => ({
    fireDate,
    trigger: def.catchUp === "all" || (def.catchUp === "latest" && i === fires.length - 1) ? "catch-up" : "schedule",
  }));
}
