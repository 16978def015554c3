import redactor from "@pinojs/redact";
import type { Logger } from "./logger.js";
import { LEVEL_VALUES, type LiveLogLine, type LogLevelName, type LogPolicy, type RunLogger, type RunLogLine, type RunLogs } from "../contracts/index.js";
import { RunLogBuffer } from "./run-log-buffer.js";

export interface RunLogCaptureOptions {
  /** Every kept line, as it is kept (the HTTP event stream, `logs --follow`). */
  onLine?: (line: LiveLogLine) => void;
  /** Lines dropped to stay within a run's bounds, as they are dropped (metrics). */
  onDropped?: (job: string, count: number) => void;
  /**
   * The lines so far of runs in flight, handed over at most this often while they gain
   * lines (so `logs --follow` on a store, from another process, sees a long run's lines
   * before it ends). @default none
   */
  liveEveryMs?: number;
  onLive?: (logs: RunLogs) => void;
  /** @default Date.now */
  now?: () => number;
}

type Redact = (obj: object) => object;

/**
 * Keeps the `ctx.log` lines of runs in flight: each line goes on to the run's pino logger
 * (stderr) as before, and, at or above the job's `logs.level`, into the run's bounded
 * buffer, redacted first. `end` hands the buffer over for the store once the run ended.
 */
export class RunLogCapture {
  private readonly open = new Map<string, { buffer: RunLogBuffer; attempts: number }>();
  /** One compiled redactor per `redact` list (a job definition's list lives until its reload). */
  private readonly redactors = new WeakMap<string[], Redact>();
  private readonly now: () => number;
  /** Runs in flight that kept lines since their last live hand-over. */
  private readonly changed = new Set<string>();
  private liveTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: RunLogCaptureOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The logger attempt `attempt` of a run writes to; the run's buffer is opened by its first. */
  attempt(job: string, policy: LogPolicy, runId: string, attempt: number, out: Logger): RunLogger {
    let run = this.open.get(runId);
    if (!run) this.open.set(runId, (run = { buffer: new RunLogBuffer(runId, job, policy.keep, policy.maxBytes), attempts: attempt }));
    run.attempts = attempt;
    return new TeeLogger(this, run.buffer, attempt, out, LEVEL_VALUES[policy.level], this.redactorOf(policy.redact));
  }

  /** The lines kept so far of a run in flight, or null when it is not (any more) in flight here. */
  live(runId: string): RunLogs | null {
    return this.open.get(runId)?.buffer.snapshot() ?? null;
  }

  /** Closes a run's buffer and returns what it kept; null when it logged through no capture. Later lines are not kept. */
  end(runId: string): RunLogs | null {
    const run = this.open.get(runId);
    if (!run) return null;
    this.open.delete(runId);
    this.changed.delete(runId);
    return run.buffer.snapshot();
  }

  /** @internal a line of `buffer`'s run, from its tee. */
  keep(buffer: RunLogBuffer, level: LogLevelName, obj: object | string, msg: string | undefined, attempt: number): void {
    if (this.open.get(buffer.runId)?.buffer !== buffer) return; // the run ended: a timer it left behind
    const line = toLine(level, obj, msg, attempt, this.now());
    const dropped = buffer.add(line.line, line.bytes);
    if (this.options.onLive) this.markChanged(buffer.runId);
    if (dropped > 0) this.options.onDropped?.(buffer.job, dropped);
    // A line too big for the run's bounds is dropped at once: only kept lines are heard live.
    if (this.options.onLine && buffer.lines[buffer.lines.length - 1] === line.line) {
      this.options.onLine({ ...line.line, runId: buffer.runId, job: buffer.job, seq: buffer.dropped + buffer.lines.length - 1 });
    }
  }

  private markChanged(runId: string): void {
    this.changed.add(runId);
    if (this.liveTimer) return;
    this.liveTimer = setTimeout(() => this.handOverLive(), this.options.liveEveryMs ?? 200);
    // Runs in flight keep the process alive, not this.
    this.liveTimer.unref();
  }

  private handOverLive(): void {
    this.liveTimer = null;
    const runs = [...this.changed];
    this.changed.clear();
    for (const runId of runs) {
      const logs = this.live(runId);
      if (logs) this.options.onLive!(logs);
    }
  }

  private redactorOf(paths: string[]): Redact | null {
    if (paths.length === 0) return null;
    let redact = this.redactors.get(paths);
    if (!redact) {
      const compiled = redactor({ paths, serialize: false, censor: "[Redacted]", strict: false });
      redact = (obj) => {
        const out = compiled(obj) as Record<string, unknown>;
        // The redactor hangs a `restore` function on its copy; neither stderr nor the store wants it.
        if (out !== obj) delete out.restore;
        return out;
      };
      this.redactors.set(paths, redact);
    }
    return redact;
  }
}

/** ctx.log of one attempt: stderr through the run's pino child, kept lines into its buffer. */
class TeeLogger implements RunLogger {
  readonly levelVal: number;

  constructor(
    private readonly capture: RunLogCapture,
    private readonly buffer: RunLogBuffer,
    private readonly attempt: number,
    private readonly out: Logger,
    private readonly keepLevel: number,
    private readonly redact: Redact | null,
  ) {
    this.levelVal = Math.min(out.levelVal, keepLevel);
  }

  trace(obj: object | string, msg?: string): void {
    this.write("trace", obj, msg);
  }
  debug(obj: object | string, msg?: string): void {
    this.write("debug", obj, msg);
  }
  info(obj: object | string, msg?: string): void {
    this.write("info", obj, msg);
  }
  warn(obj: object | string, msg?: string): void {
    this.write("warn", obj, msg);
  }
  error(obj: object | string, msg?: string): void {
    this.write("error", obj, msg);
  }
  fatal(obj: object | string, msg?: string): void {
    this.write("fatal", obj, msg);
  }

  private write(level: LogLevelName, obj: object | string, msg: string | undefined): void {
    const value = LEVEL_VALUES[level];
    // Redacted once, before either copy: a secret reaches neither stderr nor the store.
    if (this.redact && typeof obj === "object" && obj !== null && !(obj instanceof Error)) obj = this.redact(obj);
    if (value >= this.out.levelVal) {
      if (msg === undefined) this.out[level](obj);
      else this.out[level](obj, msg);
    }
    if (value >= this.keepLevel) this.capture.keep(this.buffer, level, obj, msg, this.attempt);
  }
}

/** A line as kept: its fields as JSON keeps them (so a later change to the object cannot alter it). */
function toLine(level: LogLevelName, obj: object | string, msg: string | undefined, attempt: number, now: number): { line: RunLogLine; bytes: number } {
  const time = new Date(now).toISOString();
  if (typeof obj === "string") {
    const line: RunLogLine = { level, time, msg: obj, attempt };
    return { line, bytes: 64 + Buffer.byteLength(obj) };
  }
  const fieldsOf = obj instanceof Error ? { err: obj } : obj;
  const text = safeJson(fieldsOf);
  const line: RunLogLine = { level, time, msg: msg ?? (obj instanceof Error ? obj.message : ""), attempt };
  if (text !== "{}") line.fields = JSON.parse(text) as Record<string, unknown>;
  return { line, bytes: 64 + Buffer.byteLength(line.msg) + text.length };
}

function safeJson(obj: object): string {
  try {
    return JSON.stringify(obj, jsonValue) ?? "{}";
  } catch (err) {
    return JSON.stringify({ logObjectUnavailable: (err as Error).message });
  }
}

/** Errors as pino's serializer writes them; bigints as strings (JSON has none). */
function jsonValue(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: value.message, stack: value.stack, ...(code !== undefined ? { code } : {}) };
  }
  if (typeof value === "bigint") return String(value);
  return value;
}
