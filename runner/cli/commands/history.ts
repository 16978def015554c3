import { intFlag, parseFlags, STORE_FLAG } from "../args.js";
import { loadProject, openStoreToRead } from "../project.js";
import { RunletError } from "../../errors.js";
import { parseDuration } from "../../manifest/index.js";
import type { RunStore } from "../../store/run-store.js";
import { EXIT, printJson, table } from "../output.js";
import { silentLogger } from "../../log/logger.js";
import type { RunRecord, RunStatus } from "../../contracts/index.js";

const STATUSES: readonly RunStatus[] = ["running", "ok", "failed", "timeout", "skipped", "cancelled", "lost"];
/** How many of the newest runs `--status` and `--since` look through. */
const FILTER_SCAN = 100_000;

export const historyFlags = {
  manifest: { type: "string", description: "the manifest whose store to read (default ./jobs.yaml)", short: "m" },
  ...STORE_FLAG,
  limit: { type: "string", description: "how many runs (default 20)" },
  status: { type: "string", description: "only runs with this status: running, ok, failed, timeout, skipped, cancelled, lost" },
  since: { type: "string", description: "only runs scheduled since then: a duration back from now (30m, 2h, 1d) or an ISO 8601 date-time" },
  json: { type: "boolean", description: "print one JSON array of run records, newest first" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/** `runlet history [JOB]`: recent runs from the store, newest first. */
export async function historyCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, historyFlags);
  const limit = intFlag(flags.limit, "limit", 20);
  const { store, missing } = await openStoreToRead(flags.store, flags.manifest, silentLogger());
  try {
    const job = positionals[0];
    const wanted = runFilter(flags.status, flags.since, Date.now());
    // Filters read further back than `limit`: as far as history keeps (a job's `history.keep`).
    let runs = await store.history({ job, limit: wanted ? FILTER_SCAN : limit });
    if (wanted) runs = runs.filter(wanted).slice(0, limit);
    if (job !== undefined && runs.length === 0) await checkJobKnown(job, flags.manifest, store);
    if (flags.json) printJson(runs.map(publicRecord));
    else process.stdout.write(`${runs.length === 0 ? `no runs recorded yet${missing ? ` (no store at ${missing})` : ""}` : table(["SCHEDULED (UTC)", "JOB", "STATUS", "ATTEMPT", "DURATION", "RUN ID", "ERROR"], runs.map(row))}\n`);
  } finally {
    await store.close();
  }
  return EXIT.ok;
}

/** The stable `history --json` shape of DESIGN.md; a run started by another's end (`after`) also names that run. */
function publicRecord(r: RunRecord) {
  const record = { runId: r.runId, job: r.job, status: r.status, scheduledAt: r.scheduledAt, startedAt: r.startedAt, finishedAt: r.finishedAt, attempt: r.attempt, error: r.error, result: r.result };
  return r.upstreamRunId ? { ...record, trigger: r.trigger, upstreamRunId: r.upstreamRunId } : record;
}

function row(r: RunRecord): string[] {
  const duration = r.startedAt && r.finishedAt ? `${Date.parse(r.finishedAt) - Date.parse(r.startedAt)}ms` : "-";
  const status = r.reason && (r.status === "skipped" || r.status === "cancelled") ? `${r.status} (${r.reason})` : r.status;
  return [r.scheduledAt.replace("T", " ").replace("Z", ""), r.job, status, String(r.attempt), duration, r.runId.slice(0, 8), (r.error?.message ?? "").split("\n")[0]!.slice(0, 80)];
}

/** The `--status` and `--since` filter; null when neither is given. */
function runFilter(status: string | undefined, since: string | undefined, now: number): ((r: RunRecord) => boolean) | null {
  if (status !== undefined && !STATUSES.includes(status as RunStatus)) {
    throw new RunletError("BAD_INPUT", `--status must be one of ${STATUSES.join(", ")} (got "${status}")`);
  }
  const from = since === undefined ? null : sinceTime(since, now);
  if (status === undefined && from === null) return null;
  return (r) => (status === undefined || r.status === status) && (from === null || r.scheduledAt >= from);
}

/** `--since` as the ISO string runs are compared with: a duration back from now, or a date-time. */
function sinceTime(text: string, now: number): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new RunletError("BAD_INPUT", `--since must be a duration (30m, 2h, 1d) or an ISO 8601 date-time (got "${text}")`);
    return new Date(at).toISOString();
  }
  const ms = parseDuration(text);
  if (ms === null) throw new RunletError("BAD_INPUT", `--since must be a duration (30m, 2h, 1d) or an ISO 8601 date-time (got "${text}")`);
  return new Date(now - ms).toISOString();
}

/**
 * A job with no runs: fine when the manifest has it (it has not run yet), or the store
 * knows it (it has runs that filters excluded, or it was removed from the manifest);
 * else a typo, said as such (exit 2).
 */
async function checkJobKnown(job: string, manifest: string | undefined, store: RunStore): Promise<void> {
  if ((await store.history({ job, limit: 1 })).length > 0) return;
  let names: string[];
  try {
    names = (await loadProject({ manifest, compile: false })).manifest.jobs.map((j) => j.name);
  } catch {
    return; // no readable manifest to check against: an empty history is all there is to say
  }
  if (!names.includes(job)) throw new RunletError("JOB_UNKNOWN", `no job named "${job}" in the manifest or the store (jobs: ${names.join(", ") || "none"})`);
}
