import { resolve } from "node:path";
import { loadManifest, resolveEnvironment } from "../manifest/index.js";
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
  const manifest = loadManifest(resolve(options.manifest ?? "jobs.yaml"), { env: resolveEnvironment(options.env) });
  if (!options.compile) return { manifest, compiled: new Map() };
  const compiler = new HandlerCompiler({ root: manifest.root });
  try {
    const { compiled, problems } = await compiler.compileAll([...new Set(manifest.jobs.map((j) => j.handlerPath))]);
    if (problems.length > 0) throw new ManifestError(problems);
    return { manifest, compiled };
  } finally {
    await compiler.dispose();
  }
}
