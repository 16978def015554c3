import type { EventEmitter } from "node:events";
import type { Logger } from "../log/logger.js";
import type { RunRecord } from "../contracts/index.js";

/**
 * Emits a run's record to `record` listeners. Records are emitted from inside the run's
 * dispatch (the `running` one before the handler's first await returns), so a listener
 * that throws is logged here and never reaches the run.
 */
export function emitRecord(emitter: Pick<EventEmitter, "emit">, record: RunRecord, logger: Logger): void {
  try {
    emitter.emit("record", record);
  } catch (err) {
    logger.error({ err, runId: record.runId, job: record.job }, "a 'record' listener threw; the run goes on");
  }
}
