import { isLevelName, LEVEL_VALUES, type LogLevelName, type RunRecord } from "../../contracts/index.js";
import { RunletError } from "../../errors.js";
import { silentLogger } from "../../log/logger.js";
import type { RunStore } from "../../store/run-store.js";
import type { RunDetail } from "../../http/run-routes.js";
import { parseFlags, STORE_FLAG } from "../args.js";
import { EXIT } from "../output.js";
import { loadProject, openStoreToRead } from "../project.js";
import { callRunner, REMOTE_FLAGS, remoteOf, type Remote } from "../remote.js";
import { followRemote } from "./logs-follow.js";
import { printDetail, printer, printLogs } from "./logs-print.js";
import { followStore } from "./logs-store-follow.js";

export const logsFlags = {
  manifest: { type: "string", description: "the manifest whose store to read (default ./jobs.yaml)", short: "m" },
  ...STORE_FLAG,
  ...REMOTE_FLAGS,
  follow: { type: "boolean", description: "keep printing: a run's new lines until it ends; a job's, of its newest run and every run after, until Ctrl-C (from the runner at --url/RUNLET_URL, else from the store)", short: "f" },
  json: { type: "boolean", description: "one JSON object per line: { runId, job, seq, level, time, msg, fields, attempt }" },
  level: { type: "string", description: "only lines at this level or above: trace, debug, info, warn, error, fatal" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/**
 * `runlet logs RUNID|JOB`: the kept `ctx.log` lines of a run (by id, or the short id
 * `history` shows), or of a job's latest run. Read from the store, or from a running
 * runner when --url/RUNLET_URL is given. A name that is a job's means the job, before
 * any run id it may begin.
 */
export async function logsCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, logsFlags);
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw new RunletError("BAD_INPUT", "usage: runlet logs RUNID|JOB [--follow] [--json] [--level L] [--store S] [--url URL]");
  if (flags.level !== undefined && !isLevelName(flags.level)) {
    throw new RunletError("BAD_INPUT", `--level must be one of ${Object.keys(LEVEL_VALUES).join(", ")} (got "${flags.level}")`);
  }
  const level = (flags.level as LogLevelName | undefined) ?? "trace";
  const remote = remoteOf(flags);
  if (remote) {
    const found = await remoteTarget(remote, target);
    if (!flags.follow) {
      const detail = "run" in found ? found.run : await found.latest();
      if (!detail) throw new RunletError("JOB_UNKNOWN", `job "${target}" has no runs yet in the runner at ${remote.url}`);
      printDetail(detail, printer(flags.json ?? false, level, false));
      return EXIT.ok;
    }
    return withStop((signal) => followRemote(remote, found, printer(flags.json ?? false, level, "job" in found), (runId) => runDetail(remote, runId), signal));
  }
  const { store } = await openStoreToRead(flags.store, flags.manifest, silentLogger());
  try {
    const found = await storedTarget(store, target, flags.manifest, flags.follow ?? false);
    const print = printer(flags.json ?? false, level, "job" in found && (flags.follow ?? false));
    if (!flags.follow) {
      const run = "run" in found ? found.run : found.latest!;
      printLogs(run, await store.runLogs(run.runId), 0, print);
      return EXIT.ok;
    }
    return await withStop((signal) => followStore(store, found, print, signal));
  } finally {
    await store.close();
  }
}

/** Runs a follow until it ends or Ctrl-C (SIGINT, or SIGTERM) stops it; exit 0 either way. */
async function withStop(follow: (signal: AbortSignal) => Promise<void>): Promise<number> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await follow(stop.signal);
    return EXIT.ok;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/**
 * A job's runs when a job of that name has runs in the store (or, following, is in the
 * manifest), else a run by id or short id.
 */
async function storedTarget(store: RunStore, target: string, manifest: string | undefined, follow: boolean): Promise<{ run: RunRecord } | { job: string; latest: RunRecord | null }> {
  const [latest] = await store.history({ job: target, limit: 1 });
  if (latest) return { job: target, latest };
  const run = await store.findRun(target);
  if (run) return { run };
  // A job that has not run yet can be followed: its first run's lines are printed when it starts.
  if (follow && (await manifestJobs(manifest)).includes(target)) return { job: target, latest: null };
  throw new RunletError("JOB_UNKNOWN", `no run with id "${target}" and no runs of a job "${target}" in the store (see \`runlet history\`)`);
}

async function manifestJobs(manifest: string | undefined): Promise<string[]> {
  try {
    return (await loadProject({ manifest, compile: false })).manifest.jobs.map((j) => j.name);
  } catch {
    return []; // no readable manifest: only the store can say what a name is
  }
}

/** A job of the runner (checked first: a job's name may begin a run id), else a run by id or short id. */
async function remoteTarget(remote: Remote, target: string): Promise<{ run: RunDetail } | { job: string; latest: () => Promise<RunDetail | null> }> {
  try {
    await callRunner<{ runs: RunRecord[] }>(remote, "GET", `/api/runs?job=${encodeURIComponent(target)}&limit=1`);
    return { job: target, latest: () => latestRun(remote, target) };
  } catch (err) {
    if (!(err instanceof RunletError) || err.code !== "JOB_UNKNOWN") throw err;
  }
  try {
    return { run: await runDetail(remote, target) };
  } catch (err) {
    if (err instanceof RunletError && /RUN_UNKNOWN/.test(err.message)) throw new RunletError("JOB_UNKNOWN", `no run with id "${target}" and no job "${target}" in the runner at ${remote.url}`);
    throw err;
  }
}

async function latestRun(remote: Remote, job: string): Promise<RunDetail | null> {
  const page = await callRunner<{ runs: RunRecord[] }>(remote, "GET", `/api/runs?job=${encodeURIComponent(job)}&limit=1`);
  return page.runs[0] ? runDetail(remote, page.runs[0].runId) : null;
}

function runDetail(remote: Remote, runId: string): Promise<RunDetail> {
  return callRunner<RunDetail>(remote, "GET", `/api/runs/${encodeURIComponent(runId)}`);
}
