import type { Logger } from "../log/logger.js";
import type { Attempt } from "./attempt.js";
import { SHARED_DEFAULTS, type Clock, type Executor, type OptionRule, type RunGate, type RunLogger, type RunMode, type RunRecord } from "../contracts/index.js";

export interface DispatcherOptions {
  executors: Record<RunMode, Executor>;
  logger: Logger;
  clock: Clock;
  /** The environment name handed to handlers as `ctx.env`. */
  env: string;
  /** Called with every record: once when a run starts (`running`), once when it ends. */
  onRecord: (record: RunRecord) => void;
  /**
   * The logger an attempt's handler writes `ctx.log` to, in place of the run's own (which
   * keeps the runner's "run started/ended" lines): the runner keeps these lines with the run.
   * @default the run's logger
   */
  handlerLog?: (attempt: Attempt, log: Logger, run: { readonly ended: boolean }) => RunLogger;
  /** How long a run may go on after its signal aborted before it is given up on. @default 2000 */
  abortGraceMs?: number;
  /**
   * Several replicas sharing a store: every fire and invoke is claimed through the gate
   * first, and runs only when this process won it. The gate's store then decides lateness
   * and `overlap: skip` for the whole group, so they are not decided here. @default none
   */
  gate?: RunGate;
}

export const DEFAULTS = { abortGraceMs: SHARED_DEFAULTS.abortGraceMs } as const satisfies Partial<DispatcherOptions>;

export const OPTION_RULES = {
  executors: "object",
  logger: "object",
  clock: "object",
  env: "string",
  onRecord: "function",
  handlerLog: "function",
  abortGraceMs: "ms",
  gate: "object",
} as const satisfies Record<keyof DispatcherOptions, OptionRule>;
