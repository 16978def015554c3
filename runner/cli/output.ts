import { formatProblem, ManifestError, RunletError, type ErrorCode } from "../errors.js";

/** Exit codes of every command (DESIGN.md): 0 ok, 1 a job failed (or runlet itself did), 2 bad input. */
export const EXIT = { ok: 0, jobFailed: 1, badInput: 2 } as const;

/**
 * The exit status of a command that ends with each error code (docs/errors.md lists them;
 * a test holds the two together). A run's failure is 1, what the user gave is 2, and a bug
 * in runlet (INTERNAL, or an error that is not a RunletError) is 1.
 */
export const EXIT_OF = {
  MANIFEST_INVALID: EXIT.badInput,
  HANDLER_COMPILE: EXIT.badInput,
  HANDLER_NO_DEFAULT: EXIT.badInput,
  JOB_UNKNOWN: EXIT.badInput,
  JOB_FAILED: EXIT.jobFailed,
  JOB_TIMEOUT: EXIT.jobFailed,
  JOB_CANCELLED: EXIT.jobFailed,
  JOB_EXITED: EXIT.jobFailed,
  JOB_OUT_OF_MEMORY: EXIT.jobFailed,
  JOB_STRAY_ERROR: EXIT.jobFailed,
  JOB_LATE: EXIT.jobFailed,
  RESULT_NOT_CLONEABLE: EXIT.jobFailed,
  STORE_OPEN: EXIT.badInput,
  STORE_WRITE: EXIT.badInput,
  STORE_BUSY: EXIT.badInput,
  LEASE_LOST: EXIT.jobFailed,
  OPTION_INVALID: EXIT.badInput,
  BAD_INPUT: EXIT.badInput,
  INTERNAL: EXIT.jobFailed,
} as const satisfies Record<ErrorCode, number>;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reports an error the way a person at a terminal needs it, and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof ManifestError) {
    for (const problem of err.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? "" : "s"} found.\n`);
    return EXIT_OF[err.code];
  }
  if (err instanceof RunletError && err.code !== "INTERNAL") {
    process.stderr.write(`runlet: ${err.message}\n`);
    return EXIT_OF[err.code];
  }
  // Not something the user did: say so, with everything needed to report it.
  process.stderr.write(`runlet: internal error: this is a bug in runlet, please report it with the lines below.\n${describeBug(err)}\n`);
  return EXIT_OF.INTERNAL;
}

function describeBug(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `\ncaused by: ${err.cause.stack ?? err.cause.message}` : "";
  return `${err.stack ?? err.message}${cause}`;
}

/** A plain-text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
