/**
 * What inline runs and worker runs share: importing a handler module, checking its default
 * export, and checking that a result can be structured-cloned. Both executors go through
 * these so a handler behaves the same in either mode.
 */
import { pathToFileURL } from "node:url";
import { RunletError } from "../errors.js";
import type { JobContext, JobHandler } from "../context.js";

/** Imported modules by path. The compile stage writes each version to a new path, so a path never changes content. */
type ModuleCache = Map<string, Promise<Record<string, unknown>>>;

/**
 * The default export of the module at `modulePath`, imported once per cache.
 * Rejects with JOB_FAILED when the import fails (missing file, a throw at top level) and
 * with HANDLER_NO_DEFAULT when the default export is not a function.
 */
async function loadHandler(modulePath: string, cache: ModuleCache): Promise<JobHandler> {
  let loading = cache.get(modulePath);
  if (!loading) {
    loading = import(pathToFileURL(modulePath).href) as Promise<Record<string, unknown>>;
    cache.set(modulePath, loading);
  }
  let mod: Record<string, unknown>;
  try {
    mod = await loading;
  } catch (err) {
    // Do not keep the failure: a later run may find the file (or Node may retry it).
    cache.delete(modulePath);
    throw failed(err, `could not import handler ${modulePath}: `);
  }
  const fn = mod.default;
  if (typeof fn !== "function") {
    throw new RunletError(
      "HANDLER_NO_DEFAULT",
      `${modulePath}: the default export is ${describe(fn)}; expected a function (export default async function (ctx) { ... })`,
    );
  }
  return fn as JobHandler;
}

/**
 * Handlers by module path, each imported once. One already imported is handed back
 * without a wait, so its run starts in the caller's tick.
 */
export class HandlerCache {
  private readonly modules: ModuleCache = new Map();
  private readonly loaded = new Map<string, JobHandler>();

  /** The handler, if its module was imported already. */
  ready(modulePath: string): JobHandler | undefined {
    return this.loaded.get(modulePath);
  }

  /** Imports the module (once; a failed import is tried again next time) and checks its default export. */
  async load(modulePath: string): Promise<JobHandler> {
    const handler = await loadHandler(modulePath, this.modules);
    this.loaded.set(modulePath, handler);
    return handler;
  }
}

/**
 * Calls the handler; a throw or a rejection becomes JOB_FAILED carrying the handler's
 * message and stack. With `cloneFor` (the job's name), the result is settled as
 * cloneResult() gives it. Not an async function, and no `then` for a plain value: each
 * costs hundreds of bytes, and most handlers of a busy schedule return without awaiting.
 */
export function callHandler(handler: JobHandler, ctx: JobContext, cloneFor?: string): Promise<unknown> {
  let value: unknown;
  try {
    value = handler(ctx);
  } catch (err) {
    return Promise.reject(failed(err));
  }
  if ((typeof value === "object" || typeof value === "function") && value !== null) {
    // Promise.resolve reads `then` itself (a getter may throw) and turns that into a rejection.
    return Promise.resolve(value).then(
      cloneFor === undefined ? undefined : (settled: unknown) => cloneResult(cloneFor, settled),
      (err: unknown) => {
        throw failed(err);
      },
    );
  }
  if (typeof value === "symbol" && cloneFor !== undefined) {
    try {
      cloneResult(cloneFor, value);
    } catch (err) {
      return Promise.reject(err);
    }
  }
  // Other primitives clone to themselves; most handlers of a busy schedule return nothing.
  return value === undefined ? SETTLED_UNDEFINED : Promise.resolve(value);
}

/** One promise for every run that returns nothing: a settled promise cannot be changed by its readers. */
export const SETTLED_UNDEFINED: Promise<unknown> = Promise.resolve(undefined);

/**
 * A structured clone of `value`: what a thread run hands back, so an inline run returns the
 * same thing. Rejects values that cannot cross a thread (functions, symbols, class instances
 * holding them...) with RESULT_NOT_CLONEABLE.
 */
export function cloneResult(job: string, value: unknown): unknown {
  // Primitives other than symbols clone to themselves: skip the work on the common path.
  if (value === null || (typeof value !== "object" && typeof value !== "function" && typeof value !== "symbol")) return value;
  try {
    return structuredClone(value);
  } catch (err) {
    throw new RunletError(
      "RESULT_NOT_CLONEABLE",
      `job "${job}" returned ${describe(value)}, which cannot be structured-cloned (${(err as Error).message}); return plain data: objects, arrays, strings, numbers, booleans, null, Dates, Maps, Sets`,
      { cause: err },
    );
  }
}

/**
 * JOB_FAILED with the handler's own message (after `prefix`) and its stack, so a record
 * shows where the handler threw rather than where runlet caught it.
 */
export function failed(err: unknown, prefix = ""): RunletError {
  const message = err instanceof Error ? err.message : typeof err === "string" ? err : `a non-Error value was thrown: ${describe(err)}`;
  const out = new RunletError("JOB_FAILED", prefix + message, { cause: err });
  if (err instanceof Error && typeof err.stack === "string") out.stack = err.stack;
  return out;
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (typeof value === "function") return `a function (${value.name || "anonymous"})`;
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "no prototype"})`;
  return `a ${typeof value} (${String(value)})`;
}
