/**
 * `runlet dev`'s terminal output: one short line per event a person at the keyboard
 * cares about. A run that ends ok is `✓ heartbeat 1 ms`; a failure gets its error and
 * stack; `run-started` lines are left out (their run's end line follows). Everything else
 * (reloads, problems, a handler's own `ctx.log` lines) is one line with its fields; an
 * `event` field acts only on the runner's own lines, never on a handler's.
 * The JSON log of `start` is untouched: this only formats what pino would have written.
 */

const LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };
/** Fields every line carries, or that the line itself already says. */
const QUIET = new Set(["level", "time", "pid", "hostname", "msg", "ctxLog", "job", "runId", "status", "durationMs", "attempt", "err"]);

interface LogEntry {
  level: number;
  msg?: string;
  /** Set on the runner's own lines that mark a moment (docs/logs.md), and on a handler's that chose to. */
  event?: string;
  /** On a handler's `ctx.log` line that has an `event` of its own. */
  ctxLog?: boolean;
  job?: string;
  runId?: string;
  status?: string;
  durationMs?: number;
  attempt?: number;
  err?: { type?: string; message?: string; stack?: string; code?: string };
  [field: string]: unknown;
}

/** The terminal text for one pino JSON line ("" to leave it out). */
export function devLine(json: string): string {
  let entry: LogEntry;
  try {
    entry = JSON.parse(json) as LogEntry;
  } catch {
    return json;
  }
  const msg = entry.msg ?? "";
  // By the line's event, not its message: a reworded message, or a handler's line that
  // happens to say "run started", changes nothing here. A handler's line with an `event`
  // of its own carries `ctxLog` (run-log-capture.ts): that event is the handler's.
  const event = "ctxLog" in entry ? undefined : entry.event;
  if (event === "run-started") return "";
  if (event === "run-ended" || event === "run-attempt-failed") return runEnd(entry, event === "run-attempt-failed");
  if (event === "started") return started(entry);
  if (event === "reload-applied") return `${msg} (${Math.round(Number(entry.durationMs ?? 0))} ms)`;
  const level = LEVELS[entry.level] ?? String(entry.level);
  const who = entry.job ? `${entry.job}: ` : "";
  const text = `${level === "info" ? "" : `${level} `}${who}${msg}${fields(entry, event !== undefined)}`;
  return entry.err?.stack && entry.level >= 40 ? `${text}\n${indent(entry.err.stack)}` : text;
}

function runEnd(entry: LogEntry, willRetry: boolean): string {
  const took = `${Math.round(entry.durationMs ?? 0)} ms`;
  const attempt = (entry.attempt ?? 1) > 1 ? ` (attempt ${entry.attempt})` : "";
  if (entry.status === "ok") return `✓ ${entry.job} ${took}${attempt}`;
  const error = entry.err;
  const head = `✗ ${entry.job} ${entry.status}${attempt} after ${took}${willRetry ? ", will retry" : ""}: ${error?.message ?? "no error message"}`;
  const frames = (error?.stack ?? "").split("\n").slice(1).filter(isUserFrame).slice(0, MAX_FRAMES);
  return frames.length > 0 ? `${head}\n${indent(frames.join("\n"))}` : head;
}

/** Stack frames shown under a failed run: the handler's own, not runlet's or Node's. */
const MAX_FRAMES = 5;

function isUserFrame(line: string): boolean {
  return !/node_modules[\\/]|node:internal|<anonymous>|[\\/]dist[\\/](runner|workers)[\\/]/.test(line);
}

function started(entry: LogEntry): string {
  const names = Array.isArray(entry.names) ? ` (${entry.names.join(", ")})` : "";
  const next = entry.nextFire as { job: string; at: string } | null | undefined;
  return `runner started: ${entry.jobs} job${entry.jobs === 1 ? "" : "s"}${names}, env ${entry.env}; ${next ? `next: ${next.job} at ${next.at}` : "nothing scheduled"}`;
}

/** `runnerEvent`: the line is the runner's own, its `event` goes without saying; a handler's is shown. */
function fields(entry: LogEntry, runnerEvent: boolean): string {
  const parts = Object.entries(entry)
    .filter(([key]) => !QUIET.has(key) && !(runnerEvent && key === "event"))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  return parts.length > 0 ? `  ${parts.join(" ")}` : "";
}

function indent(text: string): string {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => `    ${line.trim()}`)
    .join("\n");
}
