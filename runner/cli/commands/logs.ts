import { isLevelName, LEVEL_VALUES, type LogLevelName, type RunLogs, type RunRecord } from "../../contracts/index.js";
import { RunletError } from "../../errors.js";
import { silentLogger } from "../../log/logger.js";
import type { RunStore } from "../../store/run-store.js";
import type { RunDetail } from "../../http/run-routes.js";
import { parseFlags, STORE_FLAG } from "../args.js";
import { EXIT } from "../output.js";
import { openStoreToRead } from "../project.js";
import { callRunner, REMOTE_FLAGS, remoteOf, type Remote } from "../remote.js";
import { followRemote, type Print } from "./logs-follow.js";

export const logsFlags = {
  manifest: { type: "string", description: "the manifest whose store to read (default ./jobs.yaml)", short: "m" },
  ...STORE_FLAG,
  ...REMOTE_FLAGS,
  follow: { type: "boolean", description: "keep printing new lines while the run goes on (from the runner at --url/RUNLET_URL, else from the store)", short: "f" },
  json: { type: "boolean", description: "one JSON object per line: { runId, job, seq, level, time, msg, fields, attempt }" },
  level: { type: "string", description: "only lines at this level or above: trace, debug, info, warn, error, fatal" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/** How often `--follow` on a store reads it again. */
const STORE_POLL_MS = 100;

/**
 * `runlet logs RUNID|JOB`: the kept `ctx.log` lines of a run (by id, or the short id
 * `history` shows), or of a job's latest run. Read from the store, or from a running
 * runner when --url/RUNLET_URL is given.
 */
export async function logsCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, logsFlags);
  const [target, ...extra] = positionals;
  if (!target || extra.length > 0) throw new RunletError("BAD_INPUT", "usage: runlet logs RUNID|JOB [--follow] [--json] [--level L] [--store S] [--url URL]");
  if (flags.level !== undefined && !isLevelName(flags.level)) {
    throw new RunletError("BAD_INPUT", `--level must be one of ${Object.keys(LEVEL_VALUES).join(", ")} (got "${flags.level}")`);
  }
  const print = printer(flags.json ?? false, (flags.level as LogLevelName | undefined) ?? "trace");
  const remote = remoteOf(flags);
  if (remote) {
    const detail = await remoteRun(remote, target);
    if (!flags.follow || !detail.logs.live) {
      printDetail(detail, print);
      return EXIT.ok;
    }
    await followRemote(remote, detail.run.runId, print, (detail) => printDetail(detail, print), () => remoteRun(remote, detail.run.runId));
    return EXIT.ok;
  }
  const { store } = await openStoreToRead(flags.store, flags.manifest, silentLogger());
  try {
    const run = await storedRun(store, target);
    let printed = printLogs(run, await store.runLogs(run.runId), 0, print);
    if (!flags.follow) return EXIT.ok;
    // Another process runs it: its lines so far reach the store every ~200 ms while it goes on.
    for (let current = run; current.status === "running"; ) {
      await new Promise((resolve) => setTimeout(resolve, STORE_POLL_MS));
      current = (await store.findRun(run.runId)) ?? { ...current, status: "lost" };
      printed = printLogs(current, await store.runLogs(run.runId), printed, print);
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

function printer(json: boolean, level: LogLevelName): Print {
  const min = LEVEL_VALUES[level];
  return (line) => {
    if (LEVEL_VALUES[line.level] < min) return;
    if (json) {
      process.stdout.write(`${JSON.stringify({ runId: line.runId, job: line.job, seq: line.seq, level: line.level, time: line.time, msg: line.msg, fields: line.fields ?? null, attempt: line.attempt })}\n`);
      return;
    }
    const fields = line.fields ? ` ${JSON.stringify(line.fields)}` : "";
    process.stdout.write(`${line.time} ${line.level.toUpperCase().padEnd(5)} ${line.msg}${fields}\n`);
  };
}

/** Prints the lines of `logs` from seq `from` on; returns the seq after the last printed. */
function printLogs(run: RunRecord, logs: RunLogs | null, from: number, print: Print): number {
  const dropped = logs?.dropped ?? 0;
  if (from === 0 && dropped > 0) process.stderr.write(`runlet: ${dropped} earlier line${dropped === 1 ? "" : "s"} of run ${run.runId} were dropped (beyond logs.keep or 256 KiB)\n`);
  const lines = logs?.lines ?? [];
  for (let i = Math.max(0, from - dropped); i < lines.length; i++) print({ ...lines[i]!, runId: run.runId, job: run.job, seq: dropped + i });
  return Math.max(from, dropped + lines.length);
}

function printDetail(detail: RunDetail, print: Print, from = 0): number {
  return printLogs(detail.run, { runId: detail.run.runId, job: detail.run.job, lines: detail.logs.lines, dropped: detail.logs.dropped }, from, print);
}

/** A run by id or short id, else the newest run of the job of that name. */
async function storedRun(store: RunStore, target: string): Promise<RunRecord> {
  const [latest] = await store.history({ job: target, limit: 1 });
  if (latest) return latest;
  const run = await store.findRun(target);
  if (run) return run;
  throw new RunletError("JOB_UNKNOWN", `no run with id "${target}" and no runs of a job "${target}" in the store (see \`runlet history\`)`);
}

async function remoteRun(remote: Remote, target: string): Promise<RunDetail> {
  try {
    return await callRunner<RunDetail>(remote, "GET", `/api/runs/${encodeURIComponent(target)}`);
  } catch (err) {
    if (!(err instanceof RunletError) || !/RUN_UNKNOWN/.test(err.message)) throw err;
  }
  const page = await callRunner<{ runs: RunRecord[] }>(remote, "GET", `/api/runs?job=${encodeURIComponent(target)}&limit=1`).catch((err: unknown) => {
    if (err instanceof RunletError && err.code === "JOB_UNKNOWN") {
      throw new RunletError("JOB_UNKNOWN", `no run with id "${target}" and no job "${target}" in the runner at ${remote.url}`);
    }
    throw err;
  });
  const latest = page.runs[0];
  if (!latest) throw new RunletError("JOB_UNKNOWN", `job "${target}" has no runs yet in the runner at ${remote.url}`);
  return callRunner<RunDetail>(remote, "GET", `/api/runs/${encodeURIComponent(latest.runId)}`);
}
