import type { Schedule } from "../contracts/index.js";
import { nextFire } from "./next-fire.js";

/**
 * A schedule is walked at most this many slots per wake. A per-second schedule after a
 * laptop slept for hours would otherwise cost ~1 µs per missed second per schedule on
 * each wake; past this the count of skipped slots stops being exact.
 */
export const MAX_SLOT_WALK = 10_000;

export interface DueSlots {
  /** The fire times due by `now`, oldest first: the latest `max` of those walked. */
  slots: number[];
  /** Due slots walked but not in `slots`. A lower bound when `truncated`. */
  skipped: number;
  /** Whether the walk stopped at MAX_SLOT_WALK with slots still due (the rest were not counted). */
  truncated: boolean;
  /** The schedule's next fire after the due ones (Infinity: none). */
  next: number;
}

/**
 * The slots of `schedule` due by `now`, starting at `first` (a fire time of the schedule,
 * `first <= now`). After an event-loop stall several are; the timer reports each one.
 */
export function dueSlots(schedule: Schedule, first: number, now: number, max: number): DueSlots {
  const walked: number[] = [];
  let slot = first;
  while (slot <= now && walked.length < MAX_SLOT_WALK) {
    walked.push(slot);
    slot = nextFire(schedule, new Date(slot))?.getTime() ?? Infinity;
  }
  const truncated = slot <= now;
  // Days behind on a frequent schedule: resume from now rather than walk on.
  if (truncated) slot = nextFire(schedule, new Date(now))?.getTime() ?? Infinity;
  const slots = walked.length > max ? walked.slice(-max) : walked;
  return { slots, skipped: walked.length - slots.length, truncated, next: slot };
}
