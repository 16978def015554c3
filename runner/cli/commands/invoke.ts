import { COMMON_FLAGS, parseFlags, STORE_FLAG, paramsFlag } from "../args.js";
import { EXIT, printJson } from "../output.js";
import { createLogger } from "../../log/logger.js";
import { createRunner } from "../../runner.js";
import { manifestFile, openProjectStore, unnamedEnvironmentWarning } from "../project.js";
import { RunletError } from "../../errors.js";

export const invokeFlags = {
  ...COMMON_FLAGS,
  ...STORE_FLAG,
  params: { type: "string", description: "params for this run, as JSON (default: the job's params)" },
} as const;

/** `runlet invoke JOB`: run one job now; its result as JSON on stdout. Exit 0 ok, 1 failed, 2 bad input. */
export async function invokeCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(argv, invokeFlags);
  const [name, ...extra] = positionals;
  if (!name || extra.length > 0) throw new RunletError("BAD_INPUT", "usage: runlet invoke JOB [--params JSON] [--manifest F] [--env E]");
  const params = paramsFlag(flags.params);
  manifestFile(flags.manifest);
  const logger = createLogger({ pretty: process.stderr.isTTY });
  const store = await openProjectStore(flags.store, flags.manifest, logger);
  const runner = createRunner({ manifest: flags.manifest, env: flags.env, logger, store, shutdownGraceMs: 0 });
  try {
    const warning = unnamedEnvironmentWarning(await runner.load(), flags.env);
    if (warning) process.stderr.write(`runlet: warning: ${warning}\n`);
    const record = await runner.invoke(name, params);
    if (record.status === "ok") {
      printJson(record.result ?? null);
      return EXIT.ok;
    }
    process.stderr.write(`runlet: ${name} ${record.status}: ${record.error?.message ?? "no error message"}\n`);
    return EXIT.jobFailed;
  } finally {
    // Not `await using`: the dependency check's parser (swc's visitor) cannot read it yet.
    await runner.stop();
  }
}
