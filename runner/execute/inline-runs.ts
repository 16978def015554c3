/**
 * Which inline run an error belongs to, told from the error's stack rather than from an
 * async context. Node 20's AsyncLocalStorage turns on promise hooks for every promise of
 * the process (the dispatcher's, the store's, piscina's), and that cost, ~1 µs a promise,
 * was a third of an inline run's main-thread time when a thousand jobs fire at once.
 *
 * Every handler is its own compiled module (one file per handler and version, see
 * runner/compile/module-file.ts), so a stack frame in that file, or in a source its map
 * names (handlers are compiled with source maps, and stacks show the .ts lines), says
 * which module raised the error; the runs of that module in flight, or else the last ended
 * run of each job that uses it, say which run. When the frames name no module, or a module
 * (a file shared by several handlers) that runs of more than one job use, the error is
 * not attributed: better no run than another job's.
 */
import { findSourceMap } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { RunRequest } from "../contracts/index.js";

/** An inline run, as its stray errors and process.exit calls reach it. */
export class InlineRun {
  /** Fails the run; null once the run has settled. */
  fail: ((err: unknown) => void) | null = null;
  /** The code of a process.exit the run's code called, if it did. */
  exitCode: number | string | undefined = undefined;
  /** Order of ending among inline runs (0 while in flight): the latest ended run is the likeliest owner. */
  endedAt = 0;

  constructor(readonly req: RunRequest) {}
}

/** How many modules' last runs are kept (older modules are from reloads long past). */
const MODULES_KEPT = 1024;
/** Frames read from the stack of a process.exit call (a library may sit between it and the handler). */
const EXIT_FRAMES = 64;

/** Runs whose handler returned a promise that has not settled, by module. */
const pending = new Map<string, Set<InlineRun>>();
/** The last ended run of each job, by module. */
const ended = new Map<string, Map<string, InlineRun>>();
/** Files each module's frames may name: the module itself and the sources of its map. Read on the first error that needs it. */
const filesOf = new Map<string, Set<string>>();
/** The run whose handler is being called right now, synchronously: a process.exit in that call is its. */
let calling: InlineRun | null = null;
let endings = 0;

/** Calls the handler of `run` (`call`), noting the run so that its errors can be attributed. */
export function callIn(run: InlineRun, call: () => Promise<unknown>): Promise<unknown> {
  const outer = calling;
  calling = run;
  try {
    return call();
  } finally {
    calling = outer;
  }
}

/** The run's handler returned a promise: it is in flight until `settled`. */
export function inFlight(run: InlineRun): void {
  const module = run.req.modulePath;
  let runs = pending.get(module);
  if (!runs) pending.set(module, (runs = new Set()));
  runs.add(run);
}

/** The run's outcome is known: later errors of its module are charged to it as strays. */
export function settled(run: InlineRun): void {
  const module = run.req.modulePath;
  const runs = pending.get(module);
  if (runs?.delete(run) && runs.size === 0) pending.delete(module);
  run.endedAt = ++endings;
  let last = ended.get(module);
  if (!last) {
    ended.set(module, (last = new Map()));
    if (ended.size > MODULES_KEPT) ended.delete(ended.keys().next().value as string);
  }
  last.set(run.req.job, run);
}

/** The run whose code raised `err`, if its stack names one (see above); null if not. */
export function ownerOf(err: unknown): InlineRun | null {
  const stack = (err as { stack?: unknown } | null)?.stack;
  return typeof stack === "string" ? ownerOfStack(stack) : null;
}

/** The run whose code is calling process.exit right now, if any. */
export function exitingRun(): InlineRun | null {
  if (calling) return calling;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = EXIT_FRAMES;
  try {
    return ownerOfStack(new Error().stack ?? "");
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function ownerOfStack(stack: string): InlineRun | null {
  if (pending.size === 0 && ended.size === 0) return null;
  for (const file of frameFiles(stack)) {
    const modules = modulesNaming(file);
    if (modules.length === 0) continue;
    const owner = soleOwner(modules);
    if (owner) return owner;
    // A file several jobs' handlers share: a deeper frame (the handler that called it) may tell.
  }
  return null;
}

/**
 * The one run the modules point at, if their runs (in flight and last ended) are all of
 * one job: its oldest run in flight, else its last ended run.
 */
function soleOwner(modules: string[]): InlineRun | null {
  let job: string | null = null;
  let live: InlineRun | null = null;
  let last: InlineRun | null = null;
  for (const module of modules) {
    for (const run of [...(pending.get(module) ?? []), ...(ended.get(module)?.values() ?? [])]) {
      if (job !== null && run.req.job !== job) return null;
      job = run.req.job;
      if (run.endedAt === 0) live ??= run;
      else if (!last || run.endedAt > last.endedAt) last = run;
    }
  }
  return live ?? last;
}

/** The modules with runs (in flight or ended) whose files include `file`. */
function modulesNaming(file: string): string[] {
  const out: string[] = [];
  for (const module of new Set([...pending.keys(), ...ended.keys()])) {
    if (files(module).has(file)) out.push(module);
  }
  return out;
}

function files(module: string): Set<string> {
  let known = filesOf.get(module);
  if (known) return known;
  known = new Set([module]);
  // Only maps of modules already imported are found, and an inline run's module is.
  for (const source of findSourceMap(pathToFileURL(module).href)?.payload.sources ?? []) known.add(source.startsWith("file:") ? fileURLToPath(source) : source);
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
