import type { RunRecord } from "../../contracts/index.js";
import type { RunStore } from "../../store/run-store.js";
import { printLogs, type Print } from "./logs-print.js";

/** How often `--follow` on a store reads it again. */
const POLL_MS = 100;
/**
 * Reads of a run's log after its final record was seen. A run's last lines are written
 * just after its final record (the next transaction of the same turn), so a read between
 * the two would miss them; they are read again for this many polls before the run is left.
 */
const READS_AFTER_END = 3;
/** The newest runs of a job looked at per poll for runs that started since. */
const WINDOW = 20;

/**
 * `logs --follow` from a store another process writes (SQLite on the same machine, or a
 * PostgreSQL store shared by replicas): the runner writes a live run's lines every ~200 ms.
 * Following a run prints its lines until it ended; following a job prints its newest run's
 * lines, then those of every run of it that starts after, until `signal` aborts (Ctrl-C).
 */
export async function followStore(store: RunStore, target: { run: RunRecord } | { job: string; latest: RunRecord | null }, print: Print, signal: AbortSignal): Promise<void> {
  const followed = new Map<string, { run: RunRecord; printed: number; readsLeft: number }>();
  const start = "run" in target ? target.run : target.latest;
  if (start) followed.set(start.runId, { run: start, printed: 0, readsLeft: READS_AFTER_END });
  const job = "job" in target ? target.job : null;
  // Runs of the job already there when following began are not followed (but its newest).
  let window = new Set(job ? (await store.history({ job, limit: WINDOW })).map((r) => r.runId) : []);
  for (;;) {
    for (const [runId, entry] of followed) {
      const run = (await store.findRun(runId)) ?? { ...entry.run, status: "lost" as const };
      entry.printed = printLogs(run, await store.runLogs(runId), entry.printed, print);
      if (run.status !== "running" && --entry.readsLeft < 0) followed.delete(runId);
    }
    if (!job && followed.size === 0) return;
    if (await sleep(POLL_MS, signal)) return;
    if (job) {
      const newest = await store.history({ job, limit: WINDOW });
      // Oldest first, so the lines of runs that started together print in the order they started.
      for (const run of [...newest].reverse()) {
        // A skipped fire never ran: it has no lines to wait for.
        if (run.status !== "skipped" && !window.has(run.runId) && !followed.has(run.runId)) followed.set(run.runId, { run, printed: 0, readsLeft: READS_AFTER_END });
      }
      window = new Set(newest.map((r) => r.runId));
    }
  }
}

/** Resolves true when `signal` aborted (now or while waiting). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve(signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
