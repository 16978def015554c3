import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Logger } from "../log/logger.js";
import { openStore, sqliteFileOf } from "../store/open-store.js";
import type { RunStore } from "../store/run-store.js";
import { inspectManifest, loadManifest, readManifest, resolveEnvironment } from "../manifest/index.js";
import type { Manifest } from "../contracts/index.js";
import { HandlerCompiler, type CompiledHandler } from "../compile/index.js";
import { ManifestError, RunletError } from "../errors.js";
import { MemoryStore } from "../store/memory-store.js";

export interface ProjectOptions {
  manifest?: string;
  env?: string;
  /** Compile every handler too (validate, start, invoke). */
  compile: boolean;
}

export interface LoadedProject {
  manifest: Manifest;
  compiled: Map<string, CompiledHandler>;
}

/** The manifest (and, when asked, every handler compiled): what most commands start from. */
export async function loadProject(options: ProjectOptions): Promise<LoadedProject> {
  const file = manifestFile(options.manifest);
  const loadOptions = { env: resolveEnvironment(options.env) };
  if (!options.compile) {
    const manifest = loadManifest(file, loadOptions);
    warnUnnamedEnvironment(manifest, options.env);
    return { manifest, compiled: new Map() };
  }
  // The handlers of jobs without problems are compiled even when others have some, so
  // manifest and handler problems are reported together, in one pass.
  const { manifest, problems } = inspectManifest(file, readManifest(file, loadOptions), loadOptions);
  const compiler = new HandlerCompiler({ root: manifest.root });
  try {
    const compiled = await compiler.compileAll([...new Set(manifest.jobs.map((j) => j.handlerPath))]);
    for (const problem of compiled.problems) problems.push(problem);
    if (problems.length > 0) throw new ManifestError(problems);
    warnUnnamedEnvironment(manifest, options.env);
    return { manifest, compiled: compiled.compiled };
  } finally {
    await compiler.dispose();
  }
}

/**
 * The manifest a command reads: `--manifest`, else ./jobs.yaml. A missing file is said
 * plainly, with the way to make one, before anything else (a store, a log) is opened.
 */
export function manifestFile(flag: string | undefined): string {
  const file = resolve(flag ?? "jobs.yaml");
  if (!existsSync(file)) {
    const shown = relative(process.cwd(), file) || file;
    throw new RunletError(
      "BAD_INPUT",
      flag === undefined
        ? `no jobs.yaml in ${process.cwd()}: run \`runlet init\` to start a project here, or pass --manifest FILE`
        : `no manifest at ${shown} (--manifest): check the path, or run \`runlet init\` to start a project`,
    );
  }
  return file;
}

/**
 * The run store a command uses: `--store`, else RUNLET_STORE, else RUNLET_DATABASE_URL,
 * else `.runlet/runs.db` next to the manifest.
 */
export function storeSpec(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return flag || env.RUNLET_STORE || env.RUNLET_DATABASE_URL || undefined;
}

export async function openProjectStore(flag: string | undefined, manifest: string | undefined, logger: Logger, keepFor?: (job: string) => number): Promise<RunStore> {
  return openStore(storeSpec(flag), { manifestDir: dirname(resolve(manifest ?? "jobs.yaml")), logger, keepFor });
}

/**
 * The store a read-only command (`list`, `history`) reads. A SQLite file that does not
 * exist holds no runs: it is read as an empty store, not created (with its folders).
 */
export async function openStoreToRead(flag: string | undefined, manifest: string | undefined, logger: Logger): Promise<{ store: RunStore; missing: string | null }> {
  const spec = storeSpec(flag);
  const file = sqliteFileOf(spec, dirname(resolve(manifest ?? "jobs.yaml")));
  if (file !== null && !existsSync(file)) return { store: new MemoryStore({ logger }), missing: file };
  return { store: await openStore(spec, { manifestDir: dirname(resolve(manifest ?? "jobs.yaml")), logger }), missing: null };
}

function warnUnnamedEnvironment(manifest: Manifest, flag: string | undefined): void {
  const warning = unnamedEnvironmentWarning(manifest, flag);
  if (warning) process.stderr.write(`runlet: warning: ${warning}\n`);
}

/**
 * A warning when the environment was chosen (`--env`, RUNLET_ENV) but no `enabled` names
 * it while some name others: `--env prodution` would quietly disable every job limited
 * to `production`.
 */
export function unnamedEnvironmentWarning(manifest: Manifest, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const chosen = flag || env.RUNLET_ENV;
  const named = manifest.environments ?? [];
  if (!chosen || named.length === 0 || named.includes(chosen)) return null;
  return `environment "${chosen}" (${flag ? "--env" : "RUNLET_ENV"}) is not named by any job's \`enabled\` (they name ${named.join(", ")}); jobs enabled only there are off`;
}
