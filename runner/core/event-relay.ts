import type { EventEmitter } from "node:events";
import type { LiveLogLine, RunRecord } from "../contracts/index.js";
import { emitRecord } from "../execute/record-events.js";
import type { Logger } from "../log/logger.js";
import type { RunCore } from "./run-core.js";

/** Emits an event; a listener that throws is logged, and never reaches the run or reload that told it. */
export type Tell<E> = <K extends keyof E & string>(event: K, ...args: E[K] & unknown[]) => void;

export function teller<E>(emitter: EventEmitter, logger: Logger): Tell<E> {
  return (event, ...args) => {
    try {
      emitter.emit(event, ...args);
    } catch (err) {
      logger.error({ err, event }, `a '${event}' listener threw; the runner goes on`);
    }
  };
}

/** The events a core's owner tells from the core's own. */
export interface RelayedEvents {
  fire: [{ fireDate: Date; jobs: string[] }];
  "run-started": [RunRecord];
  "run-ended": [RunRecord];
}

export interface RelayOptions {
  tell: Tell<RelayedEvents>;
  logger: Logger;
  /** A run's final record (its final attempt: a retry is not an end). */
  onEnded(record: RunRecord): void;
}

/**
 * Tells `target`'s listeners what `core` does: every record (and whether it started or
 * ended a run), fires, and run logs. What costs the core work per fire or per line is
 * asked of it only while `target` has a listener for it.
 */
export function relayCoreEvents(core: RunCore, target: EventEmitter, { tell, logger, onEnded }: RelayOptions): void {
  // Two records a run, and only the HTTP server's metrics and event stream listen to any of
  // these events (and only with --port): each is told only while it has a listener. An emit
  // is a rest-argument call and `tell` spreads again: ~300 bytes a run until the JIT
  // compiles them away, i.e. on every run of a busy schedule's first seconds (fire-cost bench).
  core.on("record", (record) => {
    if (target.listenerCount("record") > 0) emitRecord(target, record, logger);
    const event = record.status === "running" ? "run-started" : "run-ended";
    if (target.listenerCount(event) > 0) tell(event, record);
    if (record.status !== "running") onEnded(record);
  });
  // The core builds a fire's event only while someone listens: forward it from the first listener on.
  const forwardFires = (event: string | symbol) => {
    if (event !== "fire") return;
    target.off("newListener", forwardFires);
    core.on("fire", (fire) => tell("fire", fire));
  };
  target.on("newListener", forwardFires);
  // Each line heard live costs a copy of it: the core makes one only while the target has a
  // `log` listener (an event stream open), so the forwarder is there only while one is.
  const forwardLine = (line: LiveLogLine) => target.emit("log", line);
  target.on("newListener", (event: string | symbol) => {
    if (event === "log" && target.listenerCount("log") === 0) core.on("log", forwardLine);
  });
  target.on("removeListener", (event: string | symbol) => {
    if (event === "log" && target.listenerCount("log") === 0) core.off("log", forwardLine);
  });
  core.on("log-dropped", (dropped) => target.emit("log-dropped", dropped));
  core.on("log-captured", (captured) => target.emit("log-captured", captured));
  core.on("logs", (logs) => target.emit("logs", logs));
}
