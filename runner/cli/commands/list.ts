import { availableParallelism } from "node:os";
import { COMMON_FLAGS, intFlag, parseFlags, STORE_FLAG } from "../args.js";
import { loadProject, openStoreToRead } from "../project.js";
import { silentLogger } from "../../log/logger.js";
import { EXIT, printJson, table } from "../output.js";
import { listJob } from "../../listing/job-listing.js";

export const listFlags = {
  ...COMMON_FLAGS,
  ...STORE_FLAG,
  json: { type: "boolean", description: "print one JSON array (stable format)" },
  next: { type: "string", description: "how many next fire times to show (default 1 in the table, 5 in JSON)" },
} as const;

/** `runlet list`: every job, its schedule in plain English, and when it fires next. */
export async function listCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, listFlags);
  const count = intFlag(flags.next, "next", flags.json ? 5 : 1);
  const { manifest } = await loadProject({ manifest: flags.manifest, env: flags.env, compile: false });
  const { store } = await openStoreToRead(flags.store, flags.manifest, silentLogger());
  const lastRuns = await store.lastRuns().finally(() => store.close());
  const listings = manifest.jobs.map((job) => {
    const last = lastRuns.get(job.name);
    return { ...listJob(job, count, new Date()), lastStatus: last?.status ?? null, lastRunAt: last ? (last.startedAt ?? last.scheduledAt) : null };
  });
  if (flags.json) {
    printJson(listings);
    return EXIT.ok;
  }
  const rows = listings.map((l) => [
    l.name,
    typeof l.schedule === "string" ? l.schedule : l.schedule !== null ? JSON.stringify(l.schedule) : (l.afterText ?? "-"),
    l.human,
    l.mode,
    l.concurrency === null ? l.overlap : `${l.overlap}, ${l.concurrency}`,
    l.enabled ? "yes" : `no (${manifest.env})`,
    l.next.join(", ") || "-",
    l.lastStatus ? `${l.lastStatus} ${l.lastRunAt}` : "-",
  ]);
  process.stdout.write(`${table(["NAME", "SCHEDULE", "WHEN", "MODE", "OVERLAP", "ENABLED", "NEXT (UTC)", "LAST RUN"], rows)}\n`);
  process.stdout.write(`threads: ${manifest.threads ?? `${availableParallelism()} (one per core)`}\n`);
  return EXIT.ok;
}
