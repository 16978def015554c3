import { dirname, resolve } from "node:path";
import type { Logger } from "../log/logger.js";
import { openStore } from "../store/open-store.js";
import type { RunStore } from "../store/run-store.js";
import { inspectManifest, loadManifest, readManifest, resolveEnvironment } from "../manifest/index.js";
import type { Manifest } from "../types.js";
import { HandlerCompiler, type CompiledHandler } from "../compile/index.js";
import { ManifestError } from "../errors.js";

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
  const file = resolve(options.manifest ?? "jobs.yaml");
  const loadOptions = { env: resolveEnvironment(options.env) };
  if (!options.compile) return { manifest: loadManifest(file, loadOptions), compiled: new Map() };
  // The handlers of jobs without problems are compiled even when others have some, so
  // manifest and handler problems are reported together, in one pass.
  const { manifest, problems } = inspectManifest(file, readManifest(file, loadOptions), loadOptions);
  const compiler = new HandlerCompiler({ root: manifest.root });
  try {
    const compiled = await compiler.compileAll([...new Set(manifest.jobs.map((j) => j.handlerPath))]);
    problems.push(...compiled.problems);
    if (problems.length > 0) throw new ManifestError(problems);
    return { manifest, compiled: compiled.compiled };
  } finally {
    await compiler.dispose();
  }
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
