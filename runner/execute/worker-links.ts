import type { EventEmitter } from "node:events";
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { Logger } from "../log/logger.js";
import type { RunLogger } from "../contracts/index.js";
import { LOG_LEVELS, isWorkerHello, type ControlMessage, type SerializedError, type WorkerHello, type WorkerMessage } from "./protocol.js";
import { deserializeError, unpackLogObject } from "./serialize.js";

/**
 * The main thread's side of one pool's worker ports (see protocol.ts): routes each worker's
 * log lines to the logger of the run they name, and tells workers about aborts.
 */
export class WorkerLinks {
  private readonly ports = new Map<number, MessagePort>();
  /** Runs in flight on this pool, by key: where their log lines go. */
  private readonly runs = new Map<number, RunLogger>();
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

  begin(key: number, log: RunLogger): void {
    this.runs.set(key, log);
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
   * Delivers the lines the run's worker posted before it answered, then forgets the run. The
   * answer and the lines travel on different ports, so lines logged just before `return`
   * may not have been delivered yet. `logsOn`: the worker's threadId if the run logged
   * anything (TaskOutcome.logsOn); a run that logged nothing leaves nothing to read.
   */
  settle(key: number, logsOn: number | undefined): void {
    if (logsOn !== undefined) {
      const port = this.ports.get(logsOn);
      if (port) this.drain(port, logsOn);
    }
    this.forget(key);
  }

  /** As settle, for a run whose worker died without answering (which one is not known): reads every port. */
  settleLost(key: number): void {
    for (const [id, port] of this.ports) this.drain(port, id);
    this.forget(key);
  }

  private forget(key: number): void {
    this.runs.delete(key);
    this.aborted.delete(key);
  }

  private add({ threadId, port }: WorkerHello): void {
    port.on("message", (message: WorkerMessage) => this.route(message, threadId));
    // Gone from the map before anything can read it: receiveMessageOnPort() on a closed port
    // crashes the process (segfault, Node 20.20), so only ports in the map are ever drained.
    port.on("close", () => this.ports.delete(threadId));
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
    if (message.type === "stray") {
      this.logger.error(
        { err: deserializeError(message.error), threadId },
        "an error was thrown in a worker thread outside any run (a timer or promise a handler left behind); the worker goes on",
      );
      return;
    }
    if (message.type !== "log" || !(message.level in LOG_LEVELS)) return;
    // A line for a run that has settled (a timer it left behind) has no record to join.
    const log = this.runs.get(message.key);
    if (!log) return;
    const method = log[message.level].bind(log) as (obj: unknown, msg?: string) => void;
    const obj = unpackLogObject(message.obj);
    if (message.msg === undefined) method(obj);
    else method(obj, message.msg);
  }
}
