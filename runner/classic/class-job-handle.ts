import schedule from "node-schedule";
import { RunletError } from "../errors.js";

/** What a handle asks of the runtime that schedules its job. */
export interface HandleControl {
  next(): Date | null;
  /** Unschedules the job (nothing when this handle's job was already replaced or cancelled). */
  cancel(): void;
}

/**
 * What `create()` returns: a node-schedule `Job`, as the original API declares, whose
 * timing is runlet's own scheduler (one timer heap for every job, manifest or class), not
 * a node-schedule timer of its own. `cancel()` and `nextInvocation()` work as they do on
 * node-schedule's; rescheduling goes through `create()` again.
 */
export function classJobHandle(name: string, control: HandleControl): schedule.Job {
  const job = new schedule.Job(name, () => {});
  const unsupported = (what: string, instead: string) => () => {
    throw new RunletError("BAD_INPUT", `job "${name}": ${what}() is not supported on a class job's Job; ${instead}`);
  };
  // node-schedule sets these as own properties in its constructor, so they are replaced here, not overridden.
  Object.assign(job, {
    nextInvocation: () => control.next(),
    /** True, as node-schedule's. */
    cancel: () => {
      control.cancel();
      return true;
    },
    cancelNext: unsupported("cancelNext", "cancel() it, or create() it again"),
    reschedule: unsupported("reschedule", "change getSpec() and create() it again"),
    schedule: unsupported("schedule", "create() it"),
    runOnDate: unsupported("runOnDate", "trigger() it"),
  });
  return job;
}
