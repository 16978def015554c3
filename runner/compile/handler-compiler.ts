import { existsSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { build, type BuildFailure, type BuildOptions, type Metafile } from "esbuild";
import { ManifestError, RunletError, type Problem } from "../errors.js";
import { defaultDisplayPath, hasNamespace, problemsFromMessages, type DisplayPath } from "./build-problems.js";
import { writeModuleFile } from "./module-file.js";
import { missingPackages } from "./package-imports.js";

/** A handler compiled to one ESM module that Node can import, inline or in a worker. */
export interface CompiledHandler {
  /** Absolute path of the handler source file. */
  source: string;
  /** Absolute path of the compiled ESM module (.mjs), named by its content hash. */
  modulePath: string;
  /** Content hash of the output (hex, 16 characters). */
  hash: string;
  /** Absolute paths of every local file the handler depends on, itself included; nothing under node_modules. */
  inputs: string[];
  hasDefaultExport: boolean;
}

export interface CompilerOptions {
  /** The project root (absolute): where handlers live and npm packages resolve from. */
  root: string;
  /**
   * Where compiled modules are written. It must be inside the project: npm packages stay
   * external and Node resolves them from the module's own location.
   * @default `<root>/.runlet/build`
   */
  outDir?: string;
  /** How file names appear in problems. @default relative to the current directory when inside it */
  displayPath?: DisplayPath;
}

/**
 * `createRequire` under the name `require`: a CommonJS handler (or dependency) bundled
 * into ESM calls `require("yaml")` through esbuild's shim, which needs a real `require`.
 * esbuild renames a handler's own top-level `require` out of the way of this one.
 */
const REQUIRE_BANNER =
  'import { createRequire as __runletCreateRequire } from "node:module";\nconst require = __runletCreateRequire(import.meta.url);';

const BUILD_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // npm packages are imported at run time, from the output's folder: one copy in memory,
  // native addons work, and a handler edit never rebundles a dependency.
  packages: "external",
  // Written by us (module-file.ts) under a content-hash name; see there for why.
  write: false,
  metafile: true,
  // The map is linked by writeModuleFile once the hash (and so the name) is known.
  sourcemap: "external",
  sourcesContent: false,
  banner: { js: REQUIRE_BANNER },
  loader: { ".ts": "ts", ".mts": "ts", ".js": "js", ".mjs": "js", ".cjs": "js" },
  logLevel: "silent",
} satisfies BuildOptions;

/**
 * Compiles handlers with esbuild, one plain `build()` per handler and call.
 *
 * Why no `context()`/`rebuild()`: measured here (Node 20, 2 shared cores), a warm `build()`
 * of a small handler with one local import takes ~1.0-1.4 ms and `rebuild()` ~0.9-1.0 ms;
 * for a 20-file, 324 KB local tree both took 16-22 ms. The first build in a process costs
 * 14-21 ms either way (esbuild's service starting). A context per handler would save well
 * under a millisecond per save, at the price of state to keep fresh and dispose.
 */
export class HandlerCompiler {
  private readonly root: string;
  private readonly outDir: string;
  private readonly display: DisplayPath;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: CompilerOptions) {
    this.root = resolve(options.root);
    this.outDir = resolve(options.outDir ?? join(this.root, ".runlet", "build"));
    this.display = options.displayPath ?? defaultDisplayPath;
  }

  /**
   * Compiles one handler. Throws ManifestError with one problem per esbuild error (at the
   * file and position of the error) or for a module without a default export.
   */
  compile(handlerPath: string): Promise<CompiledHandler> {
    const job = this.compileNow(resolve(handlerPath));
    this.inFlight.add(job);
    const forget = (): void => void this.inFlight.delete(job);
    job.then(forget, forget);
    return job;
  }

  /** Compiles every handler (each once); the problems of all of them, not only the first. */
  async compileAll(paths: string[]): Promise<{ compiled: Map<string, CompiledHandler>; problems: Problem[] }> {
    const unique = [...new Set(paths.map((p) => resolve(p)))];
    const settled = await Promise.allSettled(unique.map((p) => this.compile(p)));
    const compiled = new Map<string, CompiledHandler>();
    const problems: Problem[] = [];
    settled.forEach((result, i) => {
      if (result.status === "fulfilled") compiled.set(unique[i]!, result.value);
      else if (result.reason instanceof ManifestError) problems.push(...result.reason.problems);
      else throw result.reason;
    });
    return { compiled, problems };
  }

  /** Waits for compiles in flight, so nothing is written after it resolves. */
  async dispose(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async compileNow(source: string): Promise<CompiledHandler> {
    const rel = relative(this.root, source);
    const outfile = join(this.outDir, "handler.mjs");
    let result;
    try {
      result = await build({ ...BUILD_OPTIONS, entryPoints: [source], outfile, absWorkingDir: this.root });
    } catch (err) {
      // esbuild names a missing entry by its absolute path; say it the way the manifest stage does.
      if (!existsSync(source)) throw new ManifestError([{ file: this.display(source), line: 1, col: 1, message: `handler file ${rel} does not exist` }]);
      if (isBuildFailure(err)) throw new ManifestError(problemsFromMessages(err.errors, this.root, source, this.display));
      throw new RunletError("HANDLER_COMPILE", `esbuild failed on ${rel}: ${(err as Error).message}`, { cause: err });
    }

    const code = result.outputFiles.find((f) => f.path === outfile);
    const map = result.outputFiles.find((f) => f.path === `${outfile}.map`);
    const output = result.metafile.outputs[relative(this.root, outfile).split(sep).join("/")];
    if (!code || !map || !output) {
      throw new RunletError("HANDLER_COMPILE", `esbuild gave no output for ${rel} (expected ${outfile} and its map)`);
    }
    const hasDefaultExport = output.exports.includes("default");
    if (!hasDefaultExport) {
      throw new ManifestError([
        {
          file: this.display(source),
          line: 1,
          col: 1,
          message: `${rel} has no default export (expected \`export default async function (ctx) { ... }\`)`,
          code: "HANDLER_NO_DEFAULT",
        },
      ]);
    }

    const missing = missingPackages(result.metafile, this.root, this.display);
    if (missing.length > 0) throw new ManifestError(missing);

    const written = writeModuleFile(this.outDir, source, code.text, map.text);
    return { source, modulePath: written.path, hash: written.hash, inputs: this.localInputs(result.metafile), hasDefaultExport };
  }

  /** Every bundled file, absolute; npm packages are external already, but a relative import can still reach into node_modules. */
  private localInputs(metafile: Metafile): string[] {
    return Object.keys(metafile.inputs)
      .filter((p) => !hasNamespace(p))
      .map((p) => resolve(this.root, p))
      .filter((p) => !p.split(sep).includes("node_modules"))
      .sort();
  }
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}
