import { COMMON_FLAGS, parseFlags, STORE_FLAG } from "../args.js";
import { EXIT } from "../output.js";
import { createLogger } from "../../log/logger.js";
import { createRunner } from "../../runner.js";
import { openProjectStore } from "../project.js";
import { parseDuration } from "../../manifest/index.js";
import { RunletError } from "../../errors.js";

export const startFlags = {
  ...COMMON_FLAGS,
  ...STORE_FLAG,
  watch: { type: "boolean", description: "hot-reload on changes to the manifest and handlers" },
  port: { type: "string", description: "serve HTTP (health, metrics, API, dashboard) on this port (RUNLET_PORT)" },
  host: { type: "string", description: "HTTP bind address (default 127.0.0.1)" },
  grace: { type: "string", description: "on SIGINT/SIGTERM, how long runs in flight may finish (default 30s)" },
  pretty: { type: "boolean", description: "human-readable logs (default when stderr is a terminal)" },
} as const;

/** `runlet start` (and `runlet dev`): schedule and run until SIGINT/SIGTERM. */
export async function startCommand(argv: string[], preset: { watch?: boolean; env?: string; pretty?: boolean } = {}): Promise<number> {
  const { flags } = parseFlags(argv, startFlags);
  const graceMs = flags.grace === undefined ? 30_000 : parseDuration(flags.grace);
  if (graceMs === null) throw new RunletError("BAD_INPUT", `--grace must be a duration like 30s (got "${flags.grace}")`);
  const logger = createLogger({ pretty: flags.pretty ?? preset.pretty ?? process.stderr.isTTY });
  const store = await openProjectStore(flags.store, flags.manifest, logger, (job) => keep.get(job) ?? 100);
  const runner = createRunner({ manifest: flags.manifest, env: flags.env ?? preset.env, logger, store, shutdownGraceMs: graceMs, watch: flags.watch ?? preset.watch });
  const keep = new Map<string, number>();
  runner.on("reload", () => {
    keep.clear();
    for (const job of runner.jobs) keep.set(job.name, job.historyKeep);
  });
  try {
    await runner.start();
  } catch (err) {
    await runner.stop();
    throw err;
  }

  return new Promise<number>((resolveExit) => {
    let signals = 0;
    const onStop = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal }, "second signal: stopping now, runs in flight are abandoned");
        logger.flush();
        process.exit(EXIT.jobFailed);
      }
      logger.info({ signal, inFlight: runner.inFlight, graceMs }, "stopping: no new fires; waiting for runs in flight");
      runner.stop().then(
        () => {
          process.off("SIGHUP", onReload);
          resolveExit(EXIT.ok);
        },
        (err: unknown) => {
          logger.error({ err }, "error while stopping");
          resolveExit(EXIT.jobFailed);
        },
      );
    };
    const onReload = () => {
      logger.info({}, "SIGHUP: reloading the manifest");
      void runner.reload();
    };
    process.on("SIGINT", onStop);
    process.on("SIGTERM", onStop);
    process.on("SIGHUP", onReload);
  });
}

export function devCommand(argv: string[]): Promise<number> {
  return startCommand(argv, { watch: true, env: "development", pretty: true });
}
