// A run in flight and its job's running/queued state, shared by the dispatcher's admission and its attempts.
import type { JobTrigger } from "../context.js";
import type { Logger } from "../log/logger.js";
import type { ActiveJob, GateClaim, RunRecord, RunTrigger } from "../contracts/index.js";
import type { Attempt } from "./attempt.js";
import { RunAbort } from "./run-abort.js";
import type { RunningRuns } from "./running-runs.js";

/** `ctx.trigger` of a scheduled (or caught-up) run, and of an invoke: frozen, shared by every run. */
export const BY_SCHEDULE: JobTrigger = Object.freeze({ kind: "schedule" });
export const BY_INVOKE: JobTrigger = Object.freeze({ kind: "invoke" });

export function causeOf(trigger: RunTrigger): JobTrigger {
  return trigger === "invoke" ? BY_INVOKE : BY_SCHEDULE;
}

/** The `ctx.trigger` of a run started by the end of `upstream` (its final record). */
export function afterTrigger(upstream: RunRecord): JobTrigger & { kind: "after" } {
  // Frozen: every run it starts shares it (an inline run gets a copy where it holds objects).
  return Object.freeze({ kind: "after", job: upstream.job, runId: upstream.runId, status: upstream.status as "ok", result: upstream.result ?? null, error: upstream.error });
}

/** A run to start under a claim made elsewhere (a retry taken over from another replica). */
export interface ClaimedStart {
  runId: string;
  claim: GateClaim;
  firstAttempt?: number;
}

/**
 * A run in flight, as listed in its job's state from the moment its first attempt starts;
 * follow() takes it from there. It is its own abort (replace, shutdown, abortRun), which
 * the current attempt or backoff subscribes to: one object less for each run of a big fire.
 */
export class LiveRun extends RunAbort {
  done!: Promise<RunRecord>;
  /** Set once its first attempt has started (undefined while it starts). */
  first!: Attempt;
  /** Its first attempt's "run started" is logged when it is followed (see begin). */
  startLogDeferred = false;
  /** Set as its final record is written: what its code logs after that is not kept with it. */
  ended = false;

  constructor(
    readonly runId: string,
    readonly job: ActiveJob,
    readonly state: JobState,
    readonly fireDate: Date,
    readonly trigger: RunTrigger,
    readonly params: unknown,
    readonly claim: GateClaim | undefined,
    readonly attempt: number,
    readonly log: Logger,
    readonly cause: JobTrigger,
  ) {
    super();
  }
}

/** A fire waiting for a run of its job to end (`overlap: queue`). */
export interface QueuedFire {
  job: ActiveJob;
  fireDate: Date;
  trigger: RunTrigger;
  cause: JobTrigger;
}

export interface JobState {
  running: RunningRuns<LiveRun>;
  /** `overlap: queue`: fires waiting for a run to end, oldest first (one, or up to `concurrency`). */
  queued: QueuedFire[];
}
