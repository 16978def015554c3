import type { JobTrigger } from "../context.js";
import type { JobDefinition, RunTrigger } from "./types.js";

/** A job as the dispatcher runs it: its definition and the module its next run imports. */
export interface ActiveJob {
  def: JobDefinition;
  modulePath: string;
}

/** Decides whether this process runs a fire (several replicas sharing a store claim each fire first). */
export interface RunGate {
  /**
   * Resolves with a claim when this process runs it; null when it must not (the gate logs
   * why); `"later"` only for a request made `ahead`: claim it again at its time.
   */
  claim(request: GateRequest): Promise<GateClaim | null | "later">;
  /**
   * How long before its time a scheduled fire is handed over and claimed, so that its run
   * starts at its time instead of one claim's round trip later; 0: claimed at its time.
   */
  readonly aheadMs: number;
}

/** One fire, invoke or triggered run to claim. */
export interface GateRequest {
  def: JobDefinition;
  fireDate: Date;
  trigger: RunTrigger;
  runId: string;
  /** `trigger: "after"`: the upstream run that started it; the claim is keyed by it (once per upstream run). */
  upstreamRunId?: string;
  /** `trigger: "after"`: the run's `ctx.trigger`, kept with the claim for a replica that takes over a retry. */
  cause?: JobTrigger;
  /**
   * Made before the fire's time. A job whose claim decides overlap (skip, queue) is then
   * answered `"later"` while a run of it is live in the group (that run may end before the
   * fire's time), not recorded skipped. @default false
   */
  ahead?: boolean;
}

/** A fire this process won; released when its run ends, however it ends. */
export interface GateClaim {
  release(): void;
  /**
   * Whether a run claimed ahead of its time may still start: false once its lease may have
   * lapsed (this process was paused past it), when another replica may have the run.
   */
  startable(): boolean;
  /** Before a retry here: resolves true while this process still owns the run (else it has aborted the run). */
  beforeRetry(attempt: number): Promise<boolean>;
}
