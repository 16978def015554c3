import type { RunRecord } from "../../contracts/index.js";
import { RunletError } from "../../errors.js";
import { parseFlags, paramsFlag } from "../args.js";
import { EXIT, printJson } from "../output.js";
import { callRunner, REMOTE_FLAGS, requireRemote } from "../remote.js";

export const pauseFlags = {
  ...REMOTE_FLAGS,
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

export const triggerFlags = {
  ...REMOTE_FLAGS,
  params: { type: "string", description: "params for this run, as JSON (default: the job's params)" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const;

/** `runlet pause JOB` / `runlet resume JOB`: on a running runner; the state is kept in its store. */
export function pauseCommand(paused: boolean): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const { flags, positionals } = parseFlags(argv, pauseFlags);
    const name = onlyJob(positionals, paused ? "pause" : "resume");
    const remote = requireRemote(flags, `runlet ${paused ? "pause" : "resume"}`);
    const answer = await callRunner<{ job: string; paused: boolean }>(remote, "POST", `/api/jobs/${encodeURIComponent(name)}/${paused ? "pause" : "resume"}`, {});
    process.stdout.write(`${answer.job} ${answer.paused ? "paused" : "resumed"}\n`);
    return EXIT.ok;
  };
}

/**
 * `runlet trigger JOB`: runs a job now in a running runner (where `invoke` runs it in this
 * process) and prints the run's record as JSON. Exit 0 ok, 1 the run failed, 2 bad input.
 */
export async function triggerCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, triggerFlags);
  const name = onlyJob(positionals, "trigger");
  const params = paramsFlag(flags.params);
  const remote = requireRemote(flags, "runlet trigger");
  const record = await callRunner<RunRecord>(remote, "POST", `/api/jobs/${encodeURIComponent(name)}/invoke`, params === undefined ? {} : { params });
  printJson(record);
  if (record.status === "ok") return EXIT.ok;
  process.stderr.write(`runlet: ${name} ${record.status}: ${record.error?.message ?? "no error message"} (run ${record.runId})\n`);
  return EXIT.jobFailed;
}

function onlyJob(positionals: string[], command: string): string {
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new RunletError("BAD_INPUT", `usage: runlet ${command} JOB [--url URL] [--token T]`);
  return name;
}
