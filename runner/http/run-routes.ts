import type { RunLogs, RunRecord, RunStatus } from "../contracts/index.js";
import { HttpError, sendJson } from "./http-error.js";
import type { Route } from "./router.js";
import type { RunnerView } from "./runner-view.js";

const STATUSES: readonly RunStatus[] = ["running", "ok", "failed", "timeout", "skipped", "cancelled", "lost"];
const PAGE = { default: 20, max: 200 };
/**
 * How far back `GET /api/runs` pages: the newest this many runs of the query. History is
 * trimmed per job (`history.keep`, default 100), so this reaches every kept run of a job.
 */
const SCAN_MAX = 5000;

/** `GET /api/runs/:runId`: what the run detail shows. */
export interface RunDetail {
  run: RunRecord;
  /** The kept lines (from the runner itself while the run goes on); `live` while it does. */
  logs: { lines: RunLogs["lines"]; dropped: number; live: boolean };
  /** One entry per attempt; the last holds the run's outcome, earlier ones were retried. */
  attempts: AttemptView[];
}

/**
 * One try of a run as the detail shows it: its status (`retried` for a try that failed and
 * was tried again, `lost` for one lost with its replica), its times and error when the run
 * kept them (a run that may be retried does; a single try's are the run's own), and its lines.
 */
export interface AttemptView {
  attempt: number;
  status: RunStatus | "retried";
  startedAt: string | null;
  finishedAt: string | null;
  error: { message: string; code?: string } | null;
  firstLineAt: string | null;
  lines: number;
}

/** The tries of a run, from what its record kept and its log lines. */
export function attemptsOf(run: RunRecord, lines: RunLogs["lines"]): AttemptView[] {
  const kept = new Map((run.attempts ?? []).map((a) => [a.attempt, a]));
  const views: AttemptView[] = [];
  for (let n = 1; n <= Math.max(1, run.attempt); n++) {
    const own = lines.filter((l) => l.attempt === n);
    const last = n === run.attempt;
    const k = kept.get(n);
    const single = !run.attempts && run.attempt <= 1;
    // A try before the last still `running` in the record was lost with the replica running it.
    const status = last ? run.status : k?.status === "running" || k?.status === "lost" ? "lost" : "retried";
    views.push({
      attempt: n,
      status,
      startedAt: k?.startedAt ?? (single ? run.startedAt : null),
      finishedAt: last && run.status !== "running" ? (k?.finishedAt ?? run.finishedAt) : (k?.finishedAt ?? null),
      error: k?.error ?? (last && run.error ? { message: run.error.message, ...(run.error.code ? { code: run.error.code } : {}) } : null),
      firstLineAt: own[0]?.time ?? null,
      lines: own.length,
    });
  }
  return views;
}

/**
 * The run API: one run with its logs and attempts, and runs filtered by job and status,
 * newest first, paged with a cursor (`next`: pass it back as `before`).
 */
export function runRoutes(runner: RunnerView): Route[] {
  return [
    {
      method: "GET",
      path: "/api/runs/:runId",
      async handle({ res, params }) {
        const id = params.runId!;
        const run = await runner.store.findRun(id);
        if (!run) throw new HttpError(404, "RUN_UNKNOWN", `no run with id "${id}" in the store (it may have been trimmed from history)`);
        const live = runner.liveLogs(run.runId);
        const logs = live ?? (await runner.store.runLogs(run.runId));
        sendJson(res, 200, detail(run, logs, live !== null));
      },
    },
    {
      method: "GET",
      path: "/api/runs",
      async handle({ res, url }) {
        const q = url.searchParams;
        const job = q.get("job") ?? undefined;
        if (job !== undefined && !runner.jobs.some((j) => j.name === job)) {
          throw new HttpError(404, "JOB_UNKNOWN", `no job named "${job}" (jobs: ${runner.jobs.map((j) => j.name).join(", ") || "none"})`);
        }
        const status = q.get("status");
        if (status !== null && !STATUSES.includes(status as RunStatus)) {
          throw new HttpError(400, "INVALID_QUERY", `status must be one of ${STATUSES.join(", ")} (got "${status}")`);
        }
        const limit = pageSize(q.get("limit"));
        const before = q.get("before");
        let runs = await runner.store.history({ job, limit: SCAN_MAX });
        if (status !== null) runs = runs.filter((r) => r.status === status);
        if (before !== null) {
          const at = runs.findIndex((r) => r.runId === before);
          if (at < 0) throw new HttpError(400, "INVALID_QUERY", `before must be the \`next\` of a previous page (run "${before}" is not in this listing any more)`);
          runs = runs.slice(at + 1);
        }
        const page = runs.slice(0, limit);
        sendJson(res, 200, { runs: page, next: runs.length > limit ? page[page.length - 1]!.runId : null });
      },
    },
  ];
}

function detail(run: RunRecord, logs: RunLogs | null, live: boolean): RunDetail {
  const lines = logs?.lines ?? [];
  return { run, logs: { lines, dropped: logs?.dropped ?? 0, live }, attempts: attemptsOf(run, lines) };
}

function pageSize(text: string | null): number {
  if (text === null) return PAGE.default;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= PAGE.max)) throw new HttpError(400, "INVALID_QUERY", `limit must be a whole number from 1 to ${PAGE.max} (got "${text}")`);
  return n;
}
