/**
 * What the stages share: the words (job definitions, schedules, run records), the clock,
 * the executor and the run gate. Every stage may import this module; it imports none of
 * theirs, so a stage never has to load another to speak to it.
 */
export type * from "./types.js";
export { systemClock, type Clock } from "./clock.js";
export type { AbortSource, Executor, RunRequest } from "./executor.js";
export type { ActiveJob, GateClaim, GateRequest, RunGate } from "./run-gate.js";
export { LEVEL_VALUES, LOG_POLICY_DEFAULTS, isLevelName, linesJsonOf } from "./run-logs.js";
export type { LiveLogLine, LogLevelName, LogPolicy, RunLogger, RunLogLine, RunLogs } from "./run-logs.js";
export { SHARED_DEFAULTS, historyKeepOf } from "./defaults.js";
export { checkOptions, type OptionRule } from "./option-checks.js";
