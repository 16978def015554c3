import type { JobTrigger } from "../context.js";
import type { JobDefinition, RunTrigger } from "./types.js";

/** A job as the dispatcher runs it: its definition and the module its next run imports. */
export interface ActiveJob {
  def: JobDefinition;
  modulePath: string;
}

/** Decides whether this process runs a fire (several replicas sharing a store claim each fire first). */
export interface RunGate {
  /** Resolves with a claim when this process runs it; null when it must not (the gate logs why). */
  claim(request: GateRequest): Promise<GateClaim | null>;
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
}

/** A fire this process won; released when its run ends, however it ends. */
export interface GateClaim {
  release(): void;
  /** Before a retry here: resolves true while this process still owns the run (else it has aborted the run). */
  beforeRetry(attempt: number): Promise<boolean>;
}
