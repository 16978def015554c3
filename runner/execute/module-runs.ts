/**
 * Which run an error belongs to, told from the error's stack rather than from an async
 * context. Node 20's AsyncLocalStorage turns on promise hooks for every promise of the
 * thread (runlet's own, the store's, piscina's), and that cost, ~1 µs a promise, was a
 * third of an inline run's main-thread time when a thousand jobs fire at once, and most of
 * a worker's own time per run.
 *
 * Every handler is its own compiled module (one file per handler and version, see
 * runner/compile/module-file.ts), so a stack frame in that file, or in a source its map
 * names (handlers are compiled with source maps, and stacks show the .ts lines), says
 * which module raised the error; the runs of that module in flight, or else the last ended
 * run of each job that uses it, say which run. When the frames name no module, or name
 * modules whose runs are of more than one job (a file several handlers share), the error
 * is not attributed here: better no run than another job's.
 */
import { findSourceMap } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** A run as the registry sees it. */
export interface ModuleRun {
  readonly job: string;
  /** Absolute path of the handler's compiled module. */
  readonly modulePath: string;
  /** Order of ending among the registry's runs; 0 while in flight. Set by the registry. */
  endedAt: number;
}

/** How many modules' last runs are kept (older modules are from reloads long past). */
const MODULES_KEPT = 1024;
/** Frames read from the stack of a process.exit call (a library may sit between it and the handler). */
const CALLER_FRAMES = 64;

/** Files each module's frames may name: the module itself and the sources of its map. Read on the first error that needs it. */
const filesOf = new Map<string, Set<string>>();

/** The runs of one thread by module: those in flight, and the last ended run of each job. */
export class ModuleRuns<R extends ModuleRun> {
  private readonly live = new Map<string, Set<R>>();
  private readonly ended = new Map<string, Map<string, R>>();
  private endings = 0;
  /** Runs settledAtOnce, not yet filed in `ended`. */
  private unfiled: R[] = [];

  /** The run is in flight until `settled`. */
  started(run: R): void {
    let runs = this.live.get(run.modulePath);
    if (!runs) this.live.set(run.modulePath, (runs = new Set()));
    runs.add(run);
  }

  /** The run's outcome is known: later errors of its module are charged to it as strays. */
  settled(run: R): void {
    // Filed after those that ended before it: a module's last ended run of a job is the latest.
    this.fileEnded();
    // Its module's set is kept when it empties, as long as the module is among the ended
    // below: most runs are a job's only one in flight, and a set made and dropped each run
    // cost an async inline run ~400 bytes.
    this.live.get(run.modulePath)?.delete(run);
    run.endedAt = ++this.endings;
    this.endedOf(run.modulePath).set(run.job, run);
  }

  /**
   * As settled(), for a run that was never in flight (its handler returned a plain value):
   * numbered now, filed under its module on the next turn, or before a lookup needs it. A
   * fire's inline handlers start one after another in one synchronous pass, and filing each
   * run there (three hash lookups) made the last of 1,000 start ~0.08 ms later; no error of
   * the run's code can be looked up before that pass ends.
   */
  settledAtOnce(run: R): void {
    run.endedAt = ++this.endings;
    // Not unref()'d: an unref'd immediate waits for the loop's next wake-up (the next fire's
    // timer, a second later), and meanwhile two fires' runs were held instead of one.
    if (this.unfiled.push(run) === 1) setImmediate(this.fileEnded);
  }

  /** The runs settledAtOnce, filed in order; consecutive runs of one module (one fire's) share a lookup. */
  private readonly fileEnded = (): void => {
    const runs = this.unfiled;
    if (runs.length === 0) return;
    this.unfiled = [];
    let module: string | null = null;
    let last: Map<string, R> | null = null;
    for (const run of runs) {
      if (run.modulePath !== module) last = this.endedOf((module = run.modulePath));
      last!.set(run.job, run);
    }
  };

  /** The last ended runs of `module` by job, made (and the oldest module's dropped past MODULES_KEPT) when it has none. */
  private endedOf(module: string): Map<string, R> {
    let last = this.ended.get(module);
    if (!last) {
      this.ended.set(module, (last = new Map()));
      if (this.ended.size > MODULES_KEPT) {
        const oldest = this.ended.keys().next().value as string;
        this.ended.delete(oldest);
        if (this.live.get(oldest)?.size === 0) this.live.delete(oldest);
      }
    }
    return last;
  }

  /** The run whose code raised `err`, if its stack names one (see above); null if not. */
  ownerOf(err: unknown): R | null {
    const stack = (err as { stack?: unknown } | null)?.stack;
    return typeof stack === "string" ? this.ownerOfStack(stack) : null;
  }

  /** The run whose code is calling the caller of this (a process.exit), if its frames name one. */
  callingRun(): R | null {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = CALLER_FRAMES;
    try {
      return this.ownerOfStack(new Error().stack ?? "");
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private ownerOfStack(stack: string): R | null {
    this.fileEnded();
    if (this.live.size === 0 && this.ended.size === 0) return null;
    for (const file of frameFiles(stack)) {
      const modules = this.modulesNaming(file);
      if (modules.length === 0) continue;
      const owner = this.soleOwner(modules);
      if (owner) return owner;
      // A file several jobs' handlers share: a deeper frame (the handler that called it) may tell.
    }
    return null;
  }

  /**
   * The one run the modules point at, if their runs (in flight and last ended) are all of
   * one job: its oldest run in flight, else its last ended run.
   */
  private soleOwner(modules: string[]): R | null {
    let job: string | null = null;
    let live: R | null = null;
    let last: R | null = null;
    for (const module of modules) {
      for (const run of [...(this.live.get(module) ?? []), ...(this.ended.get(module)?.values() ?? [])]) {
        if (job !== null && run.job !== job) return null;
        job = run.job;
        if (run.endedAt === 0) live ??= run;
        else if (!last || run.endedAt > last.endedAt) last = run;
      }
    }
    return live ?? last;
  }

  /** The modules with runs (in flight or ended) whose files include `file`. */
  private modulesNaming(file: string): string[] {
    const out: string[] = [];
    for (const module of new Set([...this.live.keys(), ...this.ended.keys()])) {
      if (files(module).has(file)) out.push(module);
    }
    return out;
  }
}

function files(module: string): Set<string> {
  let known = filesOf.get(module);
  if (known) return known;
  known = new Set([module]);
  // Only maps of modules already imported are found, and a run's module is.
  for (const source of findSourceMap(pathToFileURL(module).href)?.payload.sources ?? []) known.add(source.startsWith("file:") ? safePath(source) : source);
  // Bounded: forgotten maps are read again when needed.
  if (filesOf.size >= MODULES_KEPT * 2) filesOf.clear();
  filesOf.set(module, known);
  return known;
}

/** The file of each frame of a V8 stack, top first: `at fn (FILE:L:C)` or `at FILE:L:C`. */
function* frameFiles(stack: string): Generator<string> {
  for (const line of stack.split("\n")) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const file = match[1]!;
    yield file.startsWith("file:") ? safePath(file) : file;
  }
}

const FRAME = /^\s+at (?:.*\()?(.+?):\d+:\d+\)?$/;

function safePath(url: string): string {
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}
