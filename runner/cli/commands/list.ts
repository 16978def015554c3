import { COMMON_FLAGS, intFlag, parseFlags } from "../args.js";
import { loadProject } from "../project.js";
import { EXIT, printJson, table } from "../output.js";
import { describeSchedule, nextFires } from "../../schedule/index.js";
import type { JobDefinition } from "../../types.js";

export const listFlags = {
  ...COMMON_FLAGS,
  json: { type: "boolean", description: "print one JSON array (stable format)" },
  next: { type: "string", description: "how many next fire times to show (default 1 in the table, 5 in JSON)" },
} as const;

/** What `list --json` prints for each job (DESIGN.md: a stable format). */
export interface JobListing {
  name: string;
  description: string;
  schedule: unknown;
  human: string;
  mode: JobDefinition["mode"];
  enabled: boolean;
  timezone: string | null;
  next: string[];
}

export function listJob(job: JobDefinition, count: number, now: Date): JobListing {
  return {
    name: job.name,
    description: job.description,
    schedule: job.scheduleSource,
    human: describeSchedule(job.schedule),
    mode: job.mode,
    enabled: job.enabled,
    timezone: job.timezone,
    next: job.enabled && job.schedule ? nextFires(job.schedule, now, count).map((d) => d.toISOString()) : [],
  };
}

/** `runlet list`: every job, its schedule in plain English, and when it fires next. */
export async function listCommand(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, listFlags);
  const count = intFlag(flags.next, "next", flags.json ? 5 : 1);
  const { manifest } = await loadProject({ manifest: flags.manifest, env: flags.env, compile: false });
  const listings = manifest.jobs.map((job) => listJob(job, count, new Date()));
  if (flags.json) {
    printJson(listings);
    return EXIT.ok;
  }
  const rows = listings.map((l) => [
    l.name,
    typeof l.schedule === "string" ? l.schedule : l.schedule === null ? "-" : JSON.stringify(l.schedule),
    l.human,
    l.mode,
    l.enabled ? "yes" : `no (${manifest.env})`,
    l.next.join(", ") || "-",
  ]);
  process.stdout.write(`${table(["NAME", "SCHEDULE", "WHEN", "MODE", "ENABLED", "NEXT (UTC)"], rows)}\n`);
  return EXIT.ok;
}
