import type { RunRequest } from "../../runner/contracts/index.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";

/** Handler files in a temp dir, written from an inline map; removed on dispose. */
export function handlerDir(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "runlet-"));
  const paths: Record<string, string> = {};
  for (const [name, source] of Object.entries(files)) {
    paths[name] = join(dir, name);
    writeFileSync(paths[name], source);
  }
  return {
    dir,
    path(name: string): string {
      const p = paths[name];
      if (!p) throw new Error(`no handler file ${name} in this test's map`);
      return p;
    },
    write(name: string, source: string): string {
      paths[name] = join(dir, name);
      writeFileSync(paths[name], source);
      return paths[name];
    },
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LogLine {
  level: number;
  msg?: string;
  job?: string;
  runId?: string;
  [key: string]: unknown;
}

/** A real pino logger writing JSON lines into memory, the run's bindings applied as the dispatcher does. */
export function memoryLogger(level = "info") {
  const lines: LogLine[] = [];
  /** Waiting `waitFor`s, told of each line as it is written. */
  const waiters = new Set<() => void>();
  const root = pino({ level }, {
    write: (s: string) => {
      lines.push(JSON.parse(s) as LogLine);
      for (const wake of waiters) wake();
    },
  });
  return {
    root,
    lines,
    /** The logger a run gets: bound to job and runId. */
    forRun(job: string, runId: string) {
      return root.child({ job, runId });
    },
    /** Resolves with the first line matching `pred`, at once or as it is written (a handler's own line is its signal; no polling). */
    waitFor(pred: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(pred);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no log line matched within ${timeoutMs}ms; lines: ${JSON.stringify(lines)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

let seq = 0;

/** A run request with test defaults; `signal` defaults to one that never aborts. */
export function request(modulePath: string, over: Partial<RunRequest> = {}): RunRequest {
  const runId = over.runId ?? `run-${++seq}`;
  const job = over.job ?? "test-job";
  return {
    job,
    runId,
    modulePath,
    fireDate: new Date("2030-01-02T03:04:05.000Z"),
    attempt: 1,
    params: null,
    env: "test",
    trigger: { kind: "invoke" },
    signal: new AbortController().signal,
    log: pino({ level: "silent" }),
    memoryMb: null,
    ...over,
  };
}

/** The rejection of `p` (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string; cause?: unknown }> {
  const settled = await p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (settled.ok) throw new Error(`expected a rejection, got ${JSON.stringify(settled.value)}`);
  return settled.error as Error & { code?: string; cause?: unknown };
}
