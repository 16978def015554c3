import type { Logger } from "./logger.js";
import { LEVEL_VALUES, type LiveLogLine, type LogLevelName, type LogPolicy, type RunLogger, type RunLogLine, type RunLogs } from "../contracts/index.js";
import { RunLogBuffer } from "./run-log-buffer.js";
import { hideSecrets, redactorOf, secretsOf } from "./redaction.js";

export interface RunLogCaptureOptions {
  /** Every kept line, as it is kept (the HTTP event stream, `logs --follow`). */
  onLine?: (line: LiveLogLine) => void;
  /** Whether anyone hears `onLine` now: a line's live copy is made only then. @default always */
  hearsLines?: () => boolean;
  /** Lines dropped to stay within a run's bounds, as they are dropped (metrics). */
  onDropped?: (job: string, count: number) => void;
  /** Lines that reached a run's log (at or above its level, kept or dropped), as they are taken in (metrics): counted without being heard one by one. */
  onCaptured?: (job: string, count: number) => void;
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

/**
 * Keeps the `ctx.log` lines of runs in flight: each line goes on to the run's pino logger
 * (stderr) as before, and, at or above the job's `logs.level`, into the run's bounded
 * buffer, redacted first. `end` hands the buffer over for the store once the run ended.
 */
export class RunLogCapture {
  /** Buffers of runs in flight that have kept a line (most runs log nothing and never get one). */
  private readonly open = new Map<string, RunLogBuffer>();
  private readonly now: () => number;
  /** Runs in flight that kept lines since their last live hand-over. */
  private readonly changed = new Set<string>();
  private liveTimer: NodeJS.Timeout | null = null;
  /** Lines logged and not yet encoded: encoding waits for the handlers of a fire to have started. */
  private unencoded: PendingLine[] = [];
  private encodeScheduled = false;

  constructor(private readonly options: RunLogCaptureOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The logger an attempt of a run writes to. The run's buffer is opened by the first line
   * it keeps, not here: a thousand-job fire's handlers start one after another, and a
   * buffer each, for runs that mostly log nothing, made the last start ~0.3 ms later. For
   * the same reason the tee only holds what it is given: its level, redactor and buffer are
   * worked out when a line comes. `run.ended`: set once the run's final record is written
   * (before end() is called for it); a line after it (a timer the run left behind) is not kept.
   */
  attempt(attempt: TeedAttempt, out: Logger, run: { readonly ended: boolean }): RunLogger {
    return new TeeLogger(this, attempt, run, out);
  }

  /** @internal the buffer a tee keeps its run's lines in, opened by its first line (shared by the run's attempts). */
  bufferOf(job: string, policy: LogPolicy, runId: string): RunLogBuffer {
    let buffer = this.open.get(runId);
    if (!buffer) this.open.set(runId, (buffer = new RunLogBuffer(runId, job, policy.keep, policy.maxBytes, secretsOf(policy.secrets))));
    return buffer;
  }

  /** The lines kept so far of a run in flight, or null when it is not (any more) in flight here. */
  live(runId: string): RunLogs | null {
    this.encodePending();
    return this.open.get(runId)?.snapshot() ?? null;
  }

  /**
   * Closes a run's buffer and returns what it kept; null when it kept nothing (or logged
   * through no capture): most runs of most jobs log nothing, and store nothing. Later lines
   * are not kept.
   */
  end(runId: string): RunLogs | null {
    const buffer = this.open.get(runId);
    if (!buffer) return null;
    this.encodePending();
    this.open.delete(runId);
    this.changed.delete(runId);
    if (buffer.size === 0 && buffer.dropped === 0) return null;
    return buffer.snapshot();
  }

  /**
   * @internal a line of `buffer`'s run, from its tee. Only noted here: it is encoded (JSON,
   * bounds, listeners) on the next turn, or before its run's log is read. A fire's handlers
   * start one after another in one synchronous pass, so every µs a line costs here would
   * make the next handler of the fire later; a thousand jobs logging three lines each
   * started ~5× later at p99 when each line was encoded at once. The object's own fields
   * are copied now, so a handler that reuses it for its next line does not change this one.
   */
  keep(buffer: RunLogBuffer, level: LogLevelName, obj: object | string, msg: string | undefined, attempt: number): void {
    if (this.open.get(buffer.runId) !== buffer) return; // the run ended: a timer it left behind
    const copy = typeof obj === "string" || obj instanceof Error ? obj : { ...obj };
    this.unencoded.push(new PendingLine(buffer, level, this.now(), copy, msg, attempt));
    if (!this.encodeScheduled) {
      this.encodeScheduled = true;
      setImmediate(() => this.encodePending());
    }
  }

  private encodePending(): void {
    this.encodeScheduled = false;
    if (this.unencoded.length === 0) return;
    const lines = this.unencoded;
    this.unencoded = [];
    // Nobody hears lines live: a run's lines followed by `keep` more of its own would only
    // be encoded to be dropped, so they are counted as dropped unencoded: a run logging
    // 10,000 lines inline has its last 1,000 encoded at its end, not all of them (what that
    // spares the other jobs: test/bench/run-logs-flood.mjs). Should one of those last lines
    // be too big to keep on its own, the run keeps one line fewer than `keep`.
    const unheard = lines.length > 1 && !(this.options.onLine && (this.options.hearsLines?.() ?? true));
    const left = unheard ? linesLeft(lines) : null;
    const captured = this.options.onCaptured ? new Map<RunLogBuffer, number>() : null;
    const skipped = left ? new Map<RunLogBuffer, number>() : null;
    for (const line of lines) {
      captured?.set(line.buffer, (captured.get(line.buffer) ?? 0) + 1);
      if (left) {
        const after = left.get(line.buffer)!;
        left.set(line.buffer, after - 1);
        if (after > line.buffer.keep) {
          line.buffer.dropped++;
          skipped!.set(line.buffer, (skipped!.get(line.buffer) ?? 0) + 1);
          continue;
        }
      }
      this.encode(line.buffer, line.level, line.timeMs, line.obj, line.msg, line.attempt);
    }
    if (captured) for (const [buffer, count] of captured) this.options.onCaptured!(buffer.job, count);
    if (skipped) {
      for (const [buffer, count] of skipped) {
        this.options.onDropped?.(buffer.job, count);
        if (this.options.onLive) this.markChanged(buffer.runId);
      }
    }
  }

  private encode(buffer: RunLogBuffer, level: LogLevelName, timeMs: number, obj: object | string, msg: string | undefined, attempt: number): void {
    const time = new Date(timeMs).toISOString();
    const message = typeof obj === "string" ? obj : (msg ?? (obj instanceof Error ? obj.message : ""));
    const fields = typeof obj === "string" ? null : fieldsJson(obj instanceof Error ? { err: obj } : obj);
    // Written by hand in one order: the one JSON.stringify per line is the fields'.
    let text = `{"level":"${level}","time":"${time}","msg":${JSON.stringify(message)},"attempt":${attempt}${fields === null ? "" : `,"fields":${fields}`}}`;
    text = hideSecrets(text, buffer.secrets);
    const dropped = buffer.add(text);
    if (dropped > 0) this.options.onDropped?.(buffer.job, dropped);
    if (this.options.onLive) this.markChanged(buffer.runId);
    // A line too big for the run's bounds is dropped at once: only kept lines are heard live.
    if (this.options.onLine && buffer.lastKept && (this.options.hearsLines?.() ?? true)) {
      // From the text as kept: what listeners hear is what the store keeps, secrets hidden.
      const line = JSON.parse(text) as RunLogLine;
      this.options.onLine({ ...line, runId: buffer.runId, job: buffer.job, seq: buffer.dropped + buffer.size - 1 });
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
}

/** Per run, how many of `lines` are its own (each line, counting itself, has that many of its run from it on). */
function linesLeft(lines: PendingLine[]): Map<RunLogBuffer, number> {
  const left = new Map<RunLogBuffer, number>();
  for (const line of lines) left.set(line.buffer, (left.get(line.buffer) ?? 0) + 1);
  return left;
}

class PendingLine {
  constructor(
    readonly buffer: RunLogBuffer,
    readonly level: LogLevelName,
    readonly timeMs: number,
    readonly obj: object | string,
    readonly msg: string | undefined,
    readonly attempt: number,
  ) {}
}

/** What a tee needs of its attempt (the dispatcher's Attempt). */
export interface TeedAttempt {
  readonly job: string;
  readonly runId: string;
  readonly attempt: number;
  readonly logPolicy: LogPolicy;
}

/** ctx.log of one attempt: stderr through the run's pino child, kept lines into its buffer. */
class TeeLogger implements RunLogger {
  private buffer: RunLogBuffer | null = null;
  /** `out` with `ctxLog: true`, for a line with an `event` of its own (docs/logs.md): made by the first such line. */
  private marked: Logger | null = null;

  constructor(
    private readonly capture: RunLogCapture,
    private readonly of: TeedAttempt,
    private readonly run: { readonly ended: boolean },
    private readonly out: Logger,
  ) {}

  /** Read once per thread run (its worker drops lines below it), by a handler rarely. */
  get levelVal(): number {
    return Math.min(this.out.levelVal, LEVEL_VALUES[this.of.logPolicy.level]);
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
    const policy = this.of.logPolicy;
    // Redacted once, before either copy: a secret reaches neither stderr nor the store.
    const redact = typeof obj === "object" && obj !== null && !(obj instanceof Error) ? redactorOf(policy.redact) : null;
    if (redact) obj = redact(obj as object);
    if (value >= this.out.levelVal) {
      // Told from the runner's own `event` lines, which go to the same child: marking every
      // line would cost a run that logs a pino child (~2.5 µs), this costs a key lookup.
      const out = typeof obj === "object" && obj !== null && "event" in obj ? (this.marked ??= this.out.child({ ctxLog: true })) : this.out;
      if (msg === undefined) out[level](obj);
      else out[level](obj, msg);
    }
    if (value < LEVEL_VALUES[policy.level]) return;
    if (!this.buffer) {
      if (this.run.ended) return; // a timer the run left behind: its log was handed over
      this.buffer = this.capture.bufferOf(this.of.job, policy, this.of.runId);
    }
    this.capture.keep(this.buffer, level, obj, msg, this.of.attempt);
  }
}

/**
 * A line's fields as JSON, or null for none. JSON.stringify with a replacer is ~5× slower
 * than without (it leaves V8's fast path), so the replacer runs only when a top-level value
 * needs it: an Error (pino's `err`), or a bigint (which throws without it).
 */
function fieldsJson(obj: object): string | null {
  let text: string;
  try {
    text = needsReplacer(obj) ? JSON.stringify(obj, jsonValue) : JSON.stringify(obj);
  } catch (err) {
    try {
      text = JSON.stringify(obj, jsonValue);
    } catch {
      text = JSON.stringify({ logObjectUnavailable: (err as Error).message });
    }
  }
  return text === undefined || text === "{}" ? null : text;
}

function needsReplacer(obj: object): boolean {
  for (const key in obj) {
    const value = (obj as Record<string, unknown>)[key];
    if (value instanceof Error) return true;
  }
  return false;
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
