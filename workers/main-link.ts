/**
 * The worker's side of its one port to the main thread (see runner/execute/protocol.ts):
 * aborts come in, log lines go out, each naming its run by `key`.
 */
import { MessageChannel, parentPort, receiveMessageOnPort, threadId, type MessagePort } from "node:worker_threads";
import type { JobLogger } from "../runner/context.js";
import { LOG_LEVELS, type ControlMessage, type LogLevel, type LogMessage, type SerializedError, type WorkerHello, type WorkerMessage } from "../runner/execute/protocol.js";
import { RunAbort } from "../runner/execute/run-abort.js";
import { deserializeError, packLogObject, serializeError } from "../runner/execute/serialize.js";

/** Aborts seen for runs this worker has not started (yet, or ever: every worker hears every abort). */
const EARLY_ABORTS_KEPT = 1024;

/** One run on this worker: its ctx.signal, and how an uncaught error reaches it. */
export class RunState {
  /** Its AbortSignal is made only when the handler reads ctx.signal. */
  private readonly aborts = new RunAbort();
  /** Set while the handler runs: fails the run with an error thrown outside its promise chain. */
  onUncaught: ((err: unknown) => void) | null = null;
  /** Whether the run has posted a log line (see TaskOutcome.logsOn). */
  logged = false;

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
}

export class MainLink {
  private readonly port: MessagePort;
  private readonly running = new Map<number, RunState>();
  private readonly earlyAborts = new Map<number, SerializedError>();

  constructor() {
    // An error thrown from a timer or an unawaited promise would end the worker, and piscina
    // would then fail whatever task it has, even one that already returned (its answer and
    // the worker's death race to the main thread). Handled here instead: the run in flight
    // fails with it (it most likely threw it); with none in flight it is logged. The worker,
    // and its loaded modules, go on.
    process.on("uncaughtException", (err) => this.uncaught(err));
    process.on("unhandledRejection", (reason) => this.uncaught(reason));
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
  start(key: number): RunState {
    // An abort posted before this task was dispatched is already queued on the port, but
    // its 'message' event may not have run yet: read it now.
    for (let next = receiveMessageOnPort(this.port); next !== undefined; next = receiveMessageOnPort(this.port)) {
      this.onControl(next.message as ControlMessage);
    }
    const run = new RunState();
    const early = this.earlyAborts.get(key);
    if (early) {
      this.earlyAborts.delete(key);
      run.abort(early);
    }
    this.running.set(key, run);
    return run;
  }

  end(key: number): void {
    this.running.delete(key);
  }

  /** ctx.log for a run: lines below the main logger's level are dropped here, the rest posted. */
  logger(key: number, minLevel: number): JobLogger {
    const method = (level: LogLevel) => {
      if (LOG_LEVELS[level] < minLevel) return noop;
      return (obj: object | string, msg?: string) => this.post({ type: "log", key, level, obj: packLogObject(obj), msg });
    };
    return { trace: method("trace"), debug: method("debug"), info: method("info"), warn: method("warn"), error: method("error"), fatal: method("fatal") };
  }

  private uncaught(err: unknown): void {
    let claimed = false;
    for (const run of this.running.values()) {
      if (run.onUncaught) {
        run.onUncaught(err);
        claimed = true;
      }
    }
    if (!claimed) this.port.postMessage({ type: "stray", error: serializeError(err) } satisfies WorkerMessage);
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

  private post(message: LogMessage): void {
    const run = this.running.get(message.key);
    if (run) run.logged = true;
    try {
      this.port.postMessage(message);
    } catch (err) {
      // A logged object holding a function or a socket cannot be cloned: log what JSON keeps
      // of it rather than fail the handler over a log line.
      this.port.postMessage({ ...message, obj: jsonSafe(message.obj, err) } satisfies LogMessage);
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
