import { COMMON_FLAGS, parseFlags, STORE_FLAG } from "../args.js";
import { EXIT } from "../output.js";
import { createLogger } from "../../log/logger.js";
import { keepRunningOutsideRuns } from "../../execute/inline-containment.js";
import { createRunner, RUNNER_DEFAULTS } from "../../runner.js";
import { loadProject, manifestFile, openProjectStore, unnamedEnvironmentWarning } from "../project.js";
import { parseDuration } from "../../manifest/index.js";
import { ManifestError, RunletError } from "../../errors.js";
import { checkExposure, httpDefaults, startHttpServer, type HttpServer } from "../../http/index.js";

export const startFlags = {
  ...COMMON_FLAGS,
  ...STORE_FLAG,
  watch: { type: "boolean", description: "hot-reload on changes to the manifest and handlers" },
  port: { type: "string", description: "serve HTTP (health, metrics, API, dashboard) on this port (RUNLET_PORT); state-changing routes need RUNLET_TOKEN" },
  host: { type: "string", description: "HTTP bind address (default 127.0.0.1); off loopback every /api route needs RUNLET_TOKEN and Host must be in RUNLET_ALLOWED_HOSTS" },
  insecure: { type: "boolean", description: "serve HTTP off loopback with no RUNLET_TOKEN (reads open to the network)" },
  grace: { type: "string", description: "on SIGINT/SIGTERM, how long runs in flight may finish (default 30s)" },
  pretty: { type: "boolean", description: "pino-pretty logs (default when stderr is a terminal; under dev: every field of every line)" },
} as const;

/** `runlet start` (and `runlet dev`): schedule and run until SIGINT/SIGTERM. */
export async function startCommand(argv: string[], preset: { watch?: boolean; env?: string; dev?: boolean } = {}): Promise<number> {
  const { flags } = parseFlags(argv, startFlags);
  const graceMs = flags.grace === undefined ? RUNNER_DEFAULTS.shutdownGraceMs : parseDuration(flags.grace);
  if (graceMs === null) throw new RunletError("BAD_INPUT", `--grace must be a duration like 30s (got "${flags.grace}")`);
  const port = portOf(flags.port ?? process.env.RUNLET_PORT);
  const token = process.env.RUNLET_TOKEN || undefined;
  // Refused before anything starts: exit 2, nothing scheduled, nothing run.
  if (port !== null) checkExposure({ host: flags.host ?? httpDefaults.host, token, insecure: flags.insecure });
  manifestFile(flags.manifest);
  const logger = createLogger({ dev: preset.dev === true && flags.pretty === undefined, pretty: flags.pretty ?? process.stderr.isTTY });
  // This process is the runner: a stray error no run can be charged with is logged, not fatal.
  keepRunningOutsideRuns(logger);
  const store = await openProjectStore(flags.store, flags.manifest, logger, (job) => runner.historyKeep(job));
  const runner = createRunner({ manifest: flags.manifest, env: flags.env ?? preset.env, logger, store, shutdownGraceMs: graceMs, watch: flags.watch ?? preset.watch });
  let http: HttpServer | null = null;

  // Signals are handled from the start: a SIGHUP during start-up must not kill the process.
  let signals = 0;
  let stopped!: (code: number) => void;
  const exit = new Promise<number>((resolve) => (stopped = resolve));
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      logger.warn({ signal }, "second signal: stopping now, runs in flight are abandoned");
      logger.flush();
      process.exit(EXIT.jobFailed);
    }
    logger.info({ event: "stopping", signal, inFlight: runner.inFlight, graceMs }, "stopping: no new fires; waiting for runs in flight");
    Promise.all([http?.close(), runner.stop()]).then(
      () => stopped(EXIT.ok),
      (err: unknown) => {
        logger.error({ err }, "error while stopping");
        stopped(EXIT.jobFailed);
      },
    );
  };
  const reload = () => {
    logger.info({}, "SIGHUP: reloading the manifest");
    void runner.reload();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.on("SIGHUP", reload);
  // `start` runs until a signal, also when nothing is scheduled (invoke-only jobs, `at`
  // jobs that have fired, a manifest a SIGHUP will fill): Node would otherwise exit.
  const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
  try {
    await runner.start();
    const warning = unnamedEnvironmentWarning(runner.manifest, flags.env);
    if (warning) logger.warn({ env: runner.manifest.env, named: runner.manifest.environments }, warning);
    if (port !== null) {
      http = await startHttpServer({ runner, port, host: flags.host, token, insecure: flags.insecure, logger });
    }
    return await exit;
  } catch (err) {
    await runner.stop();
    throw await withHandlerProblems(err, flags);
  } finally {
    clearInterval(keepAlive);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.off("SIGHUP", reload);
  }
}

function portOf(value: string | undefined): number | null {
  if (value === undefined || value === "") return null;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RunletError("BAD_INPUT", `--port must be a port number 0-65535 (got "${value}")`);
  return port;
}

export function devCommand(argv: string[]): Promise<number> {
  return startCommand(argv, { watch: true, env: "development", dev: true });
}

/**
 * The runner stops at the manifest's problems before compiling; a person fixing them
 * should see the handlers' problems in the same report, as `validate` gives them.
 */
async function withHandlerProblems(err: unknown, flags: { manifest?: string; env?: string }): Promise<unknown> {
  if (!(err instanceof ManifestError) || err.problems.some((p) => p.code === "HANDLER_COMPILE")) return err;
  try {
    await loadProject({ manifest: flags.manifest, env: flags.env, compile: true });
    return err;
  } catch (all) {
    return all instanceof ManifestError ? all : err;
  }
}
