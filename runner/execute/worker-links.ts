import type { EventEmitter } from "node:events";
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { RunRequest } from "../contracts/index.js";
import type { Logger } from "../log/logger.js";
import { strayError } from "./inline-containment.js";
import { LOG_BYTES_PER_RUN, LOG_LEVELS, LOG_LINES_PER_RUN, isWorkerHello, type ControlMessage, type LogBatch, type SerializedError, type StrayErrorMessage, type WorkerHello, type WorkerMessage } from "./protocol.js";
import { RunningRuns } from "./running-runs.js";
import { deserializeError, unpackLogObject } from "./serialize.js";

/** Handler modules whose ended runs are remembered (older ones are from reloads long past). */
const MODULES_KEPT = 1024;

/** A run in flight on the pool, as its worker's messages reach it. */
interface LinkedRun {
  key: number;
  req: RunRequest;
  /** Lines the worker dropped for going over the run's bounds. */
  dropped: number;
  /** A stray error that arrived before the run settled here (the answer and the port race). */
  stray: Error | null;
  /** Whether its worker's last batch of lines has arrived. */
  lastSeen: boolean;
  /** Set while its settling waits for that batch: the worker it waits on, and how to go on. */
  waiting: { threadId: number; go: () => void } | null;
}

/**
 * The main thread's side of one pool's worker ports (see protocol.ts): routes each worker's
 * log lines to the logger of the run they name, and tells workers about aborts.
 */
export class WorkerLinks {
  private readonly ports = new Map<number, MessagePort>();
  /** Runs in flight on this pool, by key: where their log lines go. */
  private readonly runs = new RunningRuns<LinkedRun, number>();
  /**
   * Runs settled, so that a stray error their code raises later is charged to them: by
   * module, job and worker, the last one. A worker charges a stray error only to a run in
   * flight or to the last ended run of a job of the module its stack names
   * (module-runs.ts), so no older run is ever named: each run replaces the one before it
   * here, while it is young, rather than a thousand runs being kept (and copied by the
   * collector as they age) in case.
   */
  private readonly ended = new Map<string, Map<string, Map<number, LinkedRun>>>();
  /** Runs in flight whose signal aborted: a worker that starts later is told too. */
  private readonly aborted = new Map<number, SerializedError>();

  constructor(
    pool: EventEmitter,
    /** Where errors a worker reports outside any run go. */
    private readonly logger: Logger,
  ) {
    // piscina emits every message a worker posts on its parentPort, other than its own, here.
    pool.on("message", (message: unknown) => {
      if (isWorkerHello(message)) this.add(message);
    });
  }

  begin(key: number, req: RunRequest): void {
    this.runs.set(key, { key, req, dropped: 0, stray: null, lastSeen: false, waiting: null });
  }

  /**
   * The run's worker aborts its ctx.signal. Which worker runs it is not known here (piscina
   * does not say), so every worker of the pool hears it; the others keep it in case the run
   * reaches them later.
   */
  abort(key: number, reason: SerializedError): void {
    this.aborted.set(key, reason);
    const message: ControlMessage = { type: "abort", key, reason };
    for (const port of this.ports.values()) port.postMessage(message);
  }

  /**
   * Forgets the run once every line its worker posted before answering has been delivered.
   * The answer and the lines travel on different ports, so lines logged just before
   * `return` may still be on their way: then this resolves when the run's last batch
   * arrives. Batch by batch, in turns of the event loop of their own, so a run that logged
   * thousands of lines does not hold the main thread for all of them at once. `thread`: the
   * worker that ran it, `logged`: whether the run logged anything (TaskOutcome). Null when
   * done already.
   */
  settle(key: number, thread: number, logged: boolean): Promise<void> | null {
    const run = this.runs.get(key);
    const port = logged ? this.ports.get(thread) : undefined;
    if (!run || run.lastSeen || !port) {
      this.forget(key, thread);
      return null;
    }
    port.ref();
    return new Promise<void>((resolve) => {
      run.waiting = {
        threadId: thread,
        go: () => {
          port.unref();
          this.forget(key, thread);
          resolve();
        },
      };
    });
  }

  /** As settle, for a run whose worker died without answering (which one is not known): reads every port. */
  settleLost(key: number): void {
    for (const [id, port] of this.ports) this.drain(port, id);
    // Its worker is gone: no stray error of its code can come, so it is not remembered.
    this.forget(key, null);
  }

  private forget(key: number, thread: number | null): void {
    const run = this.runs.get(key);
    this.runs.delete(key);
    this.aborted.delete(key);
    if (!run) return;
    if (run.dropped > 0) {
      run.req.log.warn({ droppedLines: run.dropped }, `${run.dropped} log lines of this run were dropped in its worker thread: a run sends its first and its last ${LOG_LINES_PER_RUN} lines (${LOG_BYTES_PER_RUN / 1024} KiB each way)`);
    }
    if (thread !== null) this.remember(run, thread);
    // After the run's own settling, which the caller does next.
    const { stray } = run;
    if (stray) queueMicrotask(() => reportStray(run.req, stray));
  }

  /** The run is now the last ended run of its job and module on `thread`. */
  private remember(run: LinkedRun, thread: number): void {
    const { modulePath, job } = run.req;
    let jobs = this.ended.get(modulePath);
    if (!jobs) {
      this.ended.set(modulePath, (jobs = new Map()));
      if (this.ended.size > MODULES_KEPT) this.ended.delete(this.ended.keys().next().value as string);
    }
    let threads = jobs.get(job);
    if (!threads) jobs.set(job, (threads = new Map()));
    threads.set(thread, run);
  }

  /** The ended run `key` of `thread`, if it is still remembered. */
  private endedRun(key: number, thread: number): LinkedRun | null {
    for (const jobs of this.ended.values()) {
      for (const threads of jobs.values()) {
        const run = threads.get(thread);
        if (run?.key === key) return run;
      }
    }
    return null;
  }

  private add({ threadId, port }: WorkerHello): void {
    port.on("message", (message: WorkerMessage) => this.route(message, threadId));
    // Gone from the map before anything can read it: receiveMessageOnPort() on a closed port
    // crashes the process (segfault, Node 20.20), so only ports in the map are ever drained.
    port.on("close", () => {
      this.ports.delete(threadId);
      // No stray error of its runs' code can come now.
      for (const jobs of this.ended.values()) for (const threads of jobs.values()) threads.delete(threadId);
      // Its last batch will not come now.
      for (const run of this.runs.values()) if (run.waiting?.threadId === threadId) run.waiting.go();
    });
    // Idle workers' ports must not keep the process alive.
    port.unref();
    this.ports.set(threadId, port);
    for (const [key, reason] of this.aborted) port.postMessage({ type: "abort", key, reason } satisfies ControlMessage);
  }

  private drain(port: MessagePort, threadId: number): void {
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      this.route(next.message as WorkerMessage, threadId);
    }
  }

  private route(message: WorkerMessage, threadId: number): void {
    if (message.type === "logs") this.deliver(message);
    else if (message.type === "stray") this.stray(message, threadId);
    else if (message.type === "retire") this.logger.info({ threadId, job: message.job }, `a worker thread retires and will be replaced: ${message.reason}`);
  }

  private deliver(batch: LogBatch): void {
    // Lines for a run that has settled (a timer it left behind) have no record to join.
    const run = this.runs.get(batch.key);
    if (!run) return;
    run.dropped = batch.dropped;
    if (batch.last) {
      run.lastSeen = true;
      run.waiting?.go();
      return;
    }
    const { log } = run.req;
    for (const line of batch.lines) {
      if (!(line.level in LOG_LEVELS)) continue;
      const method = log[line.level].bind(log) as (obj: unknown, msg?: string) => void;
      const obj = unpackLogObject(line.obj);
      if (line.msg === undefined) method(obj);
      else method(obj, line.msg);
    }
  }

  /** An error a run's code raised after the worker saw it end: charged to that run, if it is still known. */
  private stray(message: StrayErrorMessage, threadId: number): void {
    const err = deserializeError(message.error);
    if (message.key !== undefined) {
      const live = this.runs.get(message.key);
      if (live) {
        live.stray = strayError(live.req.job, err);
        return;
      }
      const ended = this.endedRun(message.key, threadId);
      if (ended) {
        reportStray(ended.req, strayError(ended.req.job, err));
        return;
      }
    }
    this.logger.error(
      { err, threadId, job: message.job, runId: message.runId },
      message.job === undefined
        ? "an error was raised in a worker thread outside any run; the worker is replaced"
        : `job "${message.job}" raised an error after its run ended (the run is too old to be recorded again); the worker is replaced`,
    );
  }
}

function reportStray(req: RunRequest, err: Error): void {
  if (req.strayAfterEnd) req.strayAfterEnd(err);
  else req.log.error({ err }, "the run's code raised an error after the run ended");
}
