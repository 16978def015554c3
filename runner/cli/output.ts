import { formatProblem, ManifestError, RunletError } from "../errors.js";

/** Exit codes of every command (DESIGN.md): 0 ok, 1 a job failed, 2 bad input. */
export const EXIT = { ok: 0, jobFailed: 1, badInput: 2 } as const;

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reports an error the way a person at a terminal needs it, and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof ManifestError) {
    for (const problem of err.problems) process.stderr.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? "" : "s"} found.\n`);
    return EXIT.badInput;
  }
  if (err instanceof RunletError) {
    process.stderr.write(`runlet: ${err.message}\n`);
    return err.code === "JOB_FAILED" || err.code === "JOB_TIMEOUT" ? EXIT.jobFailed : EXIT.badInput;
  }
  process.stderr.write(`runlet: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.badInput;
}

/** A plain-text table: columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}
