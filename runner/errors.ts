import type { SourcePosition } from "./contracts/index.js";

/** Stable codes: tests and callers match on these, never on message prose. */
export type ErrorCode =
  | "MANIFEST_INVALID"
  | "HANDLER_COMPILE"
  | "HANDLER_NO_DEFAULT"
  | "JOB_UNKNOWN"
  | "JOB_FAILED"
  | "JOB_TIMEOUT"
  | "JOB_CANCELLED"
  | "JOB_EXITED"
  | "JOB_OUT_OF_MEMORY"
  | "JOB_STRAY_ERROR"
  | "JOB_LATE"
  | "RESULT_NOT_CLONEABLE"
  | "STORE_OPEN"
  | "STORE_WRITE"
  | "STORE_BUSY"
  | "LEASE_LOST"
  | "OPTION_INVALID"
  | "BAD_INPUT"
  | "INTERNAL";

/** The one base error of runlet: a stable `code`, a message, and the underlying `cause`. */
export class RunletError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RunletError";
    this.code = code;
  }
}

/** One problem found in a user's file, reported compiler-style. */
export interface Problem extends SourcePosition {
  message: string;
  /** What kind of problem, when it is not the manifest's own (a handler that does not compile). @default "MANIFEST_INVALID" */
  code?: ErrorCode;
}

export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/** Every problem of a manifest (and its handlers) found in one pass. */
export class ManifestError extends RunletError {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    // Problems that are all of one kind (a handler's syntax error) carry that kind's code.
    const codes = new Set(problems.map((p) => p.code ?? "MANIFEST_INVALID"));
    super(codes.size === 1 ? [...codes][0]! : "MANIFEST_INVALID", problems.map(formatProblem).join("\n"));
    this.name = "ManifestError";
    this.problems = problems;
  }
}
