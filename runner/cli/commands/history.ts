import { intFlag, parseFlags, STORE_FLAG } from "../args.js";
import { openStoreToRead } from "../project.js";
import { EXIT, printJson, table } from "../output.js";
import { silentLogger } from "../../log/logger.js";
import type { RunRecord } from "../../contracts/index.js";

export const historyFlags = {
  manifest: { type: "string", description: "the manifest whose store to read (default ./jobs.yaml)", short: "m" },
  ...STORE_FLAG,
  limit: { type: "string", description: "how many runs (default 20)" },
  json: { type: "boolean", description: "print one JSON array of run records, newest first" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/** `runlet history [JOB]`: recent runs from the store, newest first. */
export async function historyCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, historyFlags);
  const limit = intFlag(flags.limit, "limit", 20);
  const { store, missing } = await openStoreToRead(flags.store, flags.manifest, silentLogger());
  try {
    const runs = await store.history({ job: positionals[0], limit });
    if (flags.json) printJson(runs.map(publicRecord));
    else process.stdout.write(`${runs.length === 0 ? `no runs recorded yet${missing ? ` (no store at ${missing})` : ""}` : table(["SCHEDULED (UTC)", "JOB", "STATUS", "ATTEMPT", "DURATION", "RUN ID", "ERROR"], runs.map(row))}\n`);
  } finally {
    await store.close();
  }
  return EXIT.ok;
}

/** The stable `history --json` shape of DESIGN.md. */
function publicRecord(r: RunRecord) {
  return { runId: r.runId, job: r.job, status: r.status, scheduledAt: r.scheduledAt, startedAt: r.startedAt, finishedAt: r.finishedAt, attempt: r.attempt, error: r.error, result: r.result };
}

function row(r: RunRecord): string[] {
  const duration = r.startedAt && r.finishedAt ? `${Date.parse(r.finishedAt) - Date.parse(r.startedAt)}ms` : "-";
  const status = r.reason && (r.status === "skipped" || r.status === "cancelled") ? `${r.status} (${r.reason})` : r.status;
  return [r.scheduledAt.replace("T", " ").replace("Z", ""), r.job, status, String(r.attempt), duration, r.runId.slice(0, 8), (r.error?.message ?? "").split("\n")[0]!.slice(0, 80)];
}
