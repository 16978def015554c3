import type { TestSchema } from "./pg-support.js";
import { loggedLines } from "../support/logged-lines.js";

/**
 * The handler of the fault tests. Each execution appends one line when it ends:
 * `runId attempt pid start end outcome` (outcome: ok, failed, aborted), so the tests see
 * what ran, not only what was recorded. With `params.ticks` it also appends
 * `runId attempt pid now` every 100 ms while it runs, to see when an execution stopped.
 * It honours ctx.signal; `params.failFirst` fails attempt 1 after its work.
 */
export const WORKER = `import { appendFileSync } from "node:fs";
export default async (ctx) => {
  const start = Date.now();
  const line = (outcome) => appendFileSync(ctx.params.log, \`\${ctx.runId} \${ctx.attempt} \${process.pid} \${start} \${Date.now()} \${outcome}\\n\`);
  const tick = () => ctx.params.ticks && appendFileSync(ctx.params.ticks, \`\${ctx.runId} \${ctx.attempt} \${process.pid} \${Date.now()}\\n\`);
  await new Promise((resolve, reject) => {
    tick();
    const ticking = setInterval(tick, 100);
    const onAbort = () => { clearTimeout(done); clearInterval(ticking); line("aborted"); reject(ctx.signal.reason); };
    const done = setTimeout(() => { clearInterval(ticking); ctx.signal.removeEventListener("abort", onAbort); resolve(); }, ctx.params.ms ?? 0);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
  });
  if (ctx.params.failFirst && ctx.attempt === 1) { line("failed"); throw new Error("attempt 1 fails on purpose"); }
  line("ok");
  return process.pid;
};
`;

export interface Execution {
  runId: string;
  attempt: number;
  pid: number;
  start: number;
  end: number;
  outcome: "ok" | "failed" | "aborted";
}

export function executions(file: string): Execution[] {
  return loggedLines(file).map(([runId, attempt, pid, start, end, outcome]) => ({
    runId: runId!,
    attempt: Number(attempt),
    pid: Number(pid),
    start: Number(start),
    end: Number(end),
    outcome: outcome as Execution["outcome"],
  }));
}

/** What the run-once promise forbids, found in the executions and the database; every list empty when it held. */
export interface Violations {
  /** runId+attempt executed more than once. */
  attemptTwice: string[];
  /** Two executions of one run that overlap in time. */
  overlapping: string[];
  /** An execution that finished ok whose run is not recorded ok with that attempt (re-run, lost, or another outcome). */
  okNotRecorded: string[];
  /** A run recorded ok with no ok execution, or with more than one. */
  okRunsNotExecutedOnce: string[];
  /** Fire rows still running or awaiting a retry, runs still `running`. */
  stuck: string[];
}

export async function runOnceViolations(
  db: TestSchema,
  file: string,
  options: { overlapAllowed?: Set<string>; /** Executions a test accounts for itself (a documented limit). */ excused?: (e: Execution) => boolean } = {},
): Promise<Violations> {
  const execs = executions(file).filter((e) => !options.excused?.(e));
  const byAttempt = new Map<string, number>();
  const byRun = new Map<string, Execution[]>();
  for (const e of execs) {
    byAttempt.set(`${e.runId}#${e.attempt}`, (byAttempt.get(`${e.runId}#${e.attempt}`) ?? 0) + 1);
    byRun.set(e.runId, [...(byRun.get(e.runId) ?? []), e]);
  }
  const overlapping: string[] = [];
  for (const [runId, list] of byRun) {
    if (options.overlapAllowed?.has(runId)) continue;
    const sorted = [...list].sort((a, b) => a.start - b.start);
    for (let i = 1; i < sorted.length; i++) if (sorted[i]!.start < sorted[i - 1]!.end) overlapping.push(`${runId} attempts ${sorted[i - 1]!.attempt} and ${sorted[i]!.attempt}`);
  }
  const runs = await db.query<{ run_id: string; status: string; attempt: number }>(`SELECT run_id, status, attempt FROM "${db.name}".runs`);
  const recorded = new Map(runs.map((r) => [r.run_id, r]));
  const okNotRecorded = execs
    .filter((e) => e.outcome === "ok")
    .filter((e) => recorded.get(e.runId)?.status !== "ok" || recorded.get(e.runId)?.attempt !== e.attempt)
    .map((e) => `${e.runId} attempt ${e.attempt}: recorded ${recorded.get(e.runId)?.status ?? "nothing"} (attempt ${recorded.get(e.runId)?.attempt})`);
  const okRunsNotExecutedOnce = runs
    .filter((r) => r.status === "ok")
    .filter((r) => (byRun.get(r.run_id) ?? []).filter((e) => e.outcome === "ok").length !== 1)
    .map((r) => `${r.run_id}: ${(byRun.get(r.run_id) ?? []).filter((e) => e.outcome === "ok").length} ok executions`);
  const stuckFires = await db.query<{ run_id: string; state: string }>(`SELECT run_id, state FROM "${db.name}".fires WHERE state IN ('running', 'retry')`);
  return {
    attemptTwice: [...byAttempt].filter(([, n]) => n > 1).map(([key, n]) => `${key} ×${n}`),
    overlapping,
    okNotRecorded,
    okRunsNotExecutedOnce,
    stuck: [...stuckFires.map((f) => `fire ${f.run_id} ${f.state}`), ...runs.filter((r) => r.status === "running").map((r) => `run ${r.run_id} running`)],
  };
}

export const NO_VIOLATIONS: Violations = { attemptTwice: [], overlapping: [], okNotRecorded: [], okRunsNotExecutedOnce: [], stuck: [] };
