import type { RunAttempt, RunError, RunStatus } from "../contracts/index.js";

/** Longest message of an earlier try kept in a record (the run's own `error` keeps the last one whole). */
const MESSAGE_MAX = 1024;

/**
 * The tries of a run that may be retried, as its records keep them (`RunRecord.attempts`):
 * each ended one with its times, status and error, and the one going on. Only runs of jobs
 * with `retries` (or taken over for a retry) have one: the one try of any other run is its
 * record's own times, and the records of a thousand-job fire stay as small as they were.
 */
export class AttemptHistory {
  private readonly ended: RunAttempt[] = [];
  private current: { attempt: number; startedAt: string } | null = null;

  constructor(firstAttempt: number) {
    // Tries before the first one here ran in another replica, which was lost: their times are not known here.
    for (let n = 1; n < firstAttempt; n++) this.ended.push({ attempt: n, startedAt: null, finishedAt: null, status: "lost", error: null });
  }

  begin(attempt: number, startedAt: string): void {
    this.current = { attempt, startedAt };
  }

  /** The try going on ended; `startedAt` again, as its handler's start may be known only now (a thread run waits for a thread). */
  end(startedAt: string, finishedAt: string | null, status: RunStatus, error: RunError | null): void {
    const attempt = this.current?.attempt ?? this.ended.length + 1;
    this.ended.push({ attempt, startedAt, finishedAt, status, error: brief(error) });
    this.current = null;
  }

  /** As a record keeps them now (a copy: records already handed out do not change). */
  snapshot(): RunAttempt[] {
    const all = this.ended.slice();
    if (this.current) all.push({ attempt: this.current.attempt, startedAt: this.current.startedAt, finishedAt: null, status: "running", error: null });
    return all;
  }
}

/** The same tries with the last one failed by `error` (a stray error charged to a run that had ended ok). */
export function failLast(attempts: RunAttempt[] | undefined, error: RunError): RunAttempt[] | undefined {
  if (!attempts || attempts.length === 0) return attempts;
  const last = attempts[attempts.length - 1]!;
  return [...attempts.slice(0, -1), { ...last, status: "failed", error: brief(error) }];
}

function brief(error: RunError | null): RunAttempt["error"] {
  if (!error) return null;
  const message = String(error.message);
  const kept: NonNullable<RunAttempt["error"]> = { message: message.length > MESSAGE_MAX ? `${message.slice(0, MESSAGE_MAX)}…` : message };
  if (error.code !== undefined) kept.code = String(error.code);
  return kept;
}
