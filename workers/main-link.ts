/**
 * The worker's side of its one port to the main thread (see runner/execute/protocol.ts):
 * aborts come in; log lines, stray errors and the worker's retirement go out.
 *
 * An error raised by a timer or a promise is charged to the run whose code made it, told
 * from its stack (runner/execute/module-runs.ts): while that run is in flight it fails the
 * run; after, it is reported as that run's stray error and the worker retires (its state
 * is no longer known to be sound). A retiring worker starts no more tasks and ends itself
 * once its last run has answered.
 */
import { MessageChannel, parentPort, receiveMessageOnPort, threadId, type MessagePort } from "node:worker_threads";
import type { JobLogger } from "../runner/context.js";
import { RunletError } from "../runner/errors.js";
import { jsonSizeUpTo } from "../runner/execute/json-budget.js";
import { ModuleRuns } from "../runner/execute/module-runs.js";
import {
  LOG_BYTES_PER_RUN,
  LOG_LEVELS,
  LOG_LINES_PER_RUN,
  RETIRED_EXIT_CODE,
  type ControlMessage,
  type LogBatch,
  type LogLevel,
  type SerializedError,
  type WorkerHello,
  type WorkerMessage,
} from "../runner/execute/protocol.js";
import { packLogObject, serializeError } from "../runner/execute/serialize.js";
import { RunState } from "./run-state.js";

/** Aborts seen for runs this worker has not started (yet, or ever: every worker hears every abort). */
const EARLY_ABORTS_KEPT = 1024;
/** Lines sent in one message: one post per line cost the main thread more than the line itself. */
const LINES_PER_BATCH = 64;

export class MainLink {
  private readonly port: MessagePort;
  private readonly running = new Map<number, RunState>();
  private readonly earlyAborts = new Map<number, SerializedError>();
  /** Runs in flight and ended, by their handler's module: whose code raised an error. */
  private readonly byModule = new ModuleRuns<RunState>();
  private readonly realExit = process.exit.bind(process);
  /** Set once the worker must start no more tasks. */
  retiring = false;

  constructor() {
    // An error thrown from a timer or an unawaited promise would end the worker, and piscina
    // would then fail whatever task it has, even one that already returned. Handled here
    // instead (see uncaught), and process.exit is turned into a failure of the run that
    // called it, so that a worker ends only when runlet ends it.
    process.on("uncaughtException", (err) => this.uncaught(err));
    process.on("unhandledRejection", (reason) => this.uncaught(reason));
    process.exit = (code?: number | string | null) => this.exitCalled(code);
    if (!parentPort) throw new Error("workers/pool-worker.js runs only as a piscina worker thread (no parentPort)");
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.port.on("message", (message: ControlMessage) => this.onControl(message));
    // The port must not keep the worker alive: piscina decides when a worker ends.
    this.port.unref();
    const hello: WorkerHello = { type: "runlet:hello", threadId, port: port2 };
    parentPort.postMessage(hello, [port2]);
  }

  /** Registers a run; its signal is already aborted if an abort for it came first. */
  start(key: number, job: string, runId: string, modulePath: string): RunState {
    // An abort posted before this task was dispatched is already queued on the port, but
    // its 'message' event may not have run yet: read it now.
    for (let next = receiveMessageOnPort(this.port); next !== undefined; next = receiveMessageOnPort(this.port)) {
      this.onControl(next.message as ControlMessage);
    }
    const run = new RunState(key, job, runId, modulePath);
    const early = this.earlyAborts.get(key);
    if (early) {
      this.earlyAborts.delete(key);
      run.abort(early);
    }
    this.running.set(key, run);
    this.byModule.started(run);
    return run;
  }

  /** The run has answered: its last log lines go out, later ones are dropped. */
  end(run: RunState): void {
    this.flush(run);
    // The tail in batches too: the main thread handles each batch in a turn of its own.
    const tail = run.tail.take();
    for (let at = 0; at < tail.length; at += LINES_PER_BATCH) {
      run.lines = tail.slice(at, at + LINES_PER_BATCH);
      this.flush(run);
    }
    if (run.logged) this.port.postMessage({ type: "logs", key: run.key, lines: [], dropped: run.dropped, last: true } satisfies LogBatch);
    run.ended = true;
    this.running.delete(run.key);
    this.byModule.settled(run);
    if (this.retiring && this.running.size === 0) this.exitSoon();
  }

  /**
   * The worker runs no more tasks and ends once its runs have answered. `job`: the job
   * whose run left it unfit, if one did.
   */
  retire(reason: string, job?: string): void {
    if (this.retiring) return;
    this.retiring = true;
    this.port.postMessage({ type: "retire", reason, job } satisfies WorkerMessage);
    if (this.running.size === 0) this.exitSoon();
  }

  /** ctx.log for a run: lines below the main logger's level, or after the run answered, are dropped here. */
  logger(run: RunState, minLevel: number): JobLogger {
    const method = (level: LogLevel) => {
      if (LOG_LEVELS[level] < minLevel) return noop;
      return (obj: object | string, msg?: string) => {
        if (!run.ended) this.log(run, level, obj, msg);
      };
    };
    return { trace: method("trace"), debug: method("debug"), info: method("info"), warn: method("warn"), error: method("error"), fatal: method("fatal") };
  }

  /**
   * Sends a line with the run's next batch while the run is within its bounds (lines and
   * bytes); past them, keeps it in the run's tail, sent when the run ends, which drops (and
   * counts) the oldest lines beyond the same bounds.
   */
  private log(run: RunState, level: LogLevel, obj: object | string, msg: string | undefined): void {
    const size = jsonSizeUpTo(obj, LOG_BYTES_PER_RUN);
    const total = size === null ? null : size + (msg?.length ?? 0);
    if (total === null || total > LOG_BYTES_PER_RUN) {
      run.dropped++;
      return;
    }
    const line = { level, obj: packLogObject(obj), msg };
    if (run.linesKept >= LOG_LINES_PER_RUN || run.bytesKept + total > LOG_BYTES_PER_RUN) {
      run.dropped += run.tail.push(line, total);
      return;
    }
    run.linesKept++;
    run.bytesKept += total;
    run.lines.push(line);
    if (!run.flushQueued) {
      // The first line of a burst goes at once (a handler may never yield again); the rest
      // of the burst goes in batches.
      this.flush(run);
      run.flushQueued = true;
      setImmediate(() => {
        run.flushQueued = false;
        this.flush(run);
      });
    } else if (run.lines.length >= LINES_PER_BATCH) this.flush(run);
  }

  private flush(run: RunState): void {
    if (run.lines.length === 0 && run.droppedSent === run.dropped) return;
    const batch: LogBatch = { type: "logs", key: run.key, lines: run.lines, dropped: run.dropped };
    run.lines = [];
    run.droppedSent = run.dropped;
    run.logged = true;
    try {
      this.port.postMessage(batch);
    } catch (err) {
      // A logged object holding a function or a socket cannot be cloned: send what JSON keeps
      // of each line rather than fail the handler over a log line.
      this.port.postMessage({ ...batch, lines: batch.lines.map((line) => ({ ...line, obj: jsonSafe(line.obj, err) })) } satisfies LogBatch);
    }
  }

  private uncaught(err: unknown): void {
    const run = this.byModule.ownerOf(err);
    if (run && !run.ended) {
      run.fail(err);
      return;
    }
    if (!run) {
      // Its stack names no handler (raised inside Node, or not an Error): the run in flight most likely raised it.
      let claimed = false;
      for (const live of this.running.values()) claimed = live.fail(err) || claimed;
      if (claimed) return;
    }
    const stray: WorkerMessage = { type: "stray", error: serializeError(err), ...(run ? { key: run.key, job: run.job, runId: run.runId } : {}) };
    this.port.postMessage(stray);
    this.retire(run ? `job "${run.job}" raised an error after its run ended` : "an error was raised outside any run", run?.job);
  }

  /** A handler's process.exit: fails its run (even if it catches this) and retires the worker. */
  private exitCalled(code: number | string | null | undefined): never {
    // Only handlers' code calls process.exit in a worker (runlet ends it with realExit): the
    // run in flight when the caller's frames name none.
    const run = this.byModule.callingRun() ?? this.onlyRunning();
    if (!run) return this.realExit(code ?? undefined);
    run.exitCode = code ?? 0;
    this.retire(`job "${run.job}" called process.exit`, run.job);
    throw new RunletError(
      "JOB_EXITED",
      `job "${run.job}" called process.exit(${code ?? ""}) in its worker thread; the call failed, the run is failed and the worker replaced: a handler should return or throw instead`,
    );
  }

  private onlyRunning(): RunState | null {
    if (this.running.size !== 1) return null;
    return this.running.values().next().value ?? null;
  }

  /** Ends the worker now: a task it was handed and has not started is rejected with RETIRED_EXIT_CODE, and handed on by the main thread. */
  exitNow(): never {
    return this.realExit(RETIRED_EXIT_CODE);
  }

  private exitSoon(): void {
    // After the answer piscina is posting now. A task that reaches this worker first ends it
    // at once (pool-worker.ts), and is handed on.
    setImmediate(() => this.exitNow());
  }

  private onControl(message: ControlMessage): void {
    if (message.type !== "abort") return;
    const run = this.running.get(message.key);
    if (run) {
      run.abort(message.reason);
      return;
    }
    this.earlyAborts.set(message.key, message.reason);
    if (this.earlyAborts.size > EARLY_ABORTS_KEPT) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.earlyAborts.keys().next().value as number;
      this.earlyAborts.delete(oldest);
    }
  }
}

function noop(): void {}

function jsonSafe(obj: unknown, cloneError: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(obj, (_key, value: unknown) => (value instanceof Error ? serializeError(value) : typeof value === "bigint" ? String(value) : value)));
  } catch (err) {
    return { logObjectUnavailable: `${(cloneError as Error).message}; ${(err as Error).message}` };
  }
}
