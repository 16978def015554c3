import type { ModuleRun } from "../runner/execute/module-runs.js";
import { RunAbort } from "../runner/execute/run-abort.js";
import { LOG_BYTES_PER_RUN, LOG_LINES_PER_RUN, type LogLine, type SerializedError } from "../runner/execute/protocol.js";
import { deserializeError } from "../runner/execute/serialize.js";
import { LogTail } from "./log-tail.js";

/** One run on this worker: its ctx.signal, how an uncaught error reaches it, and its log lines on their way out. */
export class RunState implements ModuleRun {
  /** Its AbortSignal is made only when the handler reads ctx.signal. */
  private readonly aborts = new RunAbort();
  /** Set while the handler runs: fails the run with an error raised outside its promise chain. */
  onUncaught: ((err: unknown) => void) | null = null;
  /** Set once the run has answered: what its code raises later is a stray error, what it logs is dropped. */
  ended = false;
  /** The code of a process.exit its code called, if it did. */
  exitCode: number | string | undefined = undefined;
  /** Whether the run has posted log lines (see TaskOutcome.logsOn). */
  logged = false;
  /** Lines waiting for the next batch. */
  lines: LogLine[] = [];
  flushQueued = false;
  /** The last lines past the run's bounds, sent when it ends. */
  readonly tail = new LogTail(LOG_LINES_PER_RUN, LOG_BYTES_PER_RUN);
  /** Lines and bytes sent so far while the run went on, against its bounds; lines dropped, and how many of those the main thread was told of. */
  linesKept = 0;
  bytesKept = 0;
  dropped = 0;
  droppedSent = 0;
  endedAt = 0;

  constructor(
    readonly key: number,
    readonly job: string,
    readonly runId: string,
    /** The handler's compiled module: what a stack frame of its code names (module-runs.ts). */
    readonly modulePath: string,
  ) {}

  /** Why the run was aborted, if it was. */
  get abortReason(): Error | null {
    return this.aborts.aborted ? (this.aborts.reason as Error) : null;
  }

  get signal(): AbortSignal {
    return this.aborts.signal;
  }

  abort(reason: SerializedError): void {
    if (!this.aborts.aborted) this.aborts.abort(deserializeError(reason));
  }

  /** Fails the run with `err` if its handler is still running; false if it is not. */
  fail(err: unknown): boolean {
    if (!this.onUncaught) return false;
    this.onUncaught(err);
    return true;
  }
}
