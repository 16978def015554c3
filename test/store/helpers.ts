import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Logger } from "../../runner/log/logger.js";
import type { StoredRun } from "../../runner/store/run-store.js";

/** A temp folder removed on dispose. */
export function tempDir(): { dir: string; [Symbol.dispose](): void } {
  const dir = mkdtempSync(join(tmpdir(), "runlet-"));
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A logger that keeps every line, parsed, for tests that read what was logged. */
export function captureLogger(): { logger: Logger; lines: Array<{ level: number; msg: string; [key: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** The pid of a process that has exited (and been waited for), so it no longer exists. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  if (typeof child.pid !== "number" || child.status !== 0) throw new Error(`could not run a child process: ${String(child.error)}`);
  return child.pid;
}

/** A minute-precision time on a fixed day, as the dispatcher writes it. */
export function at(minute: number, second = 0): string {
  return new Date(Date.UTC(2030, 0, 1, 0, minute, second)).toISOString();
}

let counter = 0;

/** A finished run of `job` scheduled at minute `minute`; fields overridable. */
export function aRun(job: string, minute: number, fields: Partial<StoredRun> = {}): StoredRun {
  return {
    runId: `${job}-${minute}-${++counter}`,
    job,
    status: "ok",
    scheduledAt: at(minute),
    startedAt: at(minute, 1),
    finishedAt: at(minute, 2),
    attempt: 1,
    error: null,
    result: null,
    reason: null,
    trigger: "schedule",
    ...fields,
  };
}
