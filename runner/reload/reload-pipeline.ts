import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { HandlerCompiler, type CompiledHandler } from "../compile/index.js";
import type { ActiveJob, Executor, JobDefinition, Manifest, RunMode } from "../contracts/index.js";
import { ManifestError, RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { AfterIndex, type Scheduler } from "../schedule/index.js";
import { ProjectWatcher } from "../watch/project-watcher.js";
import { describeDiff, diffJobs, type ManifestDiff } from "./diff-jobs.js";
import { ManifestFreshness } from "./manifest-freshness.js";
import { ManifestThread } from "./manifest-thread.js";
import { TimeSlices } from "./time-slices.js";
import { ThreadRecycler } from "./thread-recycler.js";

export interface ReloadResult {
  ok: boolean;
  diff: ManifestDiff | null;
  /** Handler files whose compiled module changed. */
  rebuilt: string[];
  durationMs: number;
  error?: ManifestError | RunletError;
}

export interface ReloadPipelineOptions {
  manifestPath: string;
  env: string;
  logger: Logger;
  /** Hot reload: `start()` watches the files, and every reload is logged, also before the runner starts. */
  watch: boolean;
  /** The jobs the runner fires and invokes, by name: the pipeline swaps entries in and out. */
  active: Map<string, ActiveJob>;
  /** Where jobs are (re)scheduled; the core arms only those this replica fires. */
  scheduler: Pick<Scheduler, "add" | "remove">;
  executors: Record<RunMode, Executor>;
  /** Paused jobs are not preloaded. */
  paused: ReadonlySet<string>;
  /** Whether the runner has started (reloads before that are its first load). */
  isStarted(): boolean;
  isStopping(): boolean;
  /** After a reload is applied on a started runner: replicas learn the new jobs. */
  onApplied(next: Manifest): Promise<void>;
  /** Every result, applied or refused. */
  onResult(result: ReloadResult): void;
}

/**
 * Load → compile what changed → diff → swap the jobs in. An invalid manifest or a handler
 * that fails to compile changes nothing: the last good state keeps running. Reloads run
 * one at a time, in order. With `watch()`, file changes trigger reloads.
 */
export class ReloadPipeline {
  private current: Manifest | null = null;
  private compiler: HandlerCompiler | null = null;
  private compiled = new Map<string, CompiledHandler>();
  private reloading: Promise<void> = Promise.resolve();
  private watcher: ProjectWatcher | null = null;
  private readonly recycler: ThreadRecycler;
  /** Which jobs each job's ended runs start (`after`), from the running manifest. */
  private afterIndex = new AfterIndex([]);
  /** Reads the manifest off the main thread when it is large (see manifest-thread.ts). */
  private readonly manifests = new ManifestThread();
  /** The handler files the manifest names, valid or not: watched so a missing one is seen appearing. */
  private namedHandlers: string[] = [];
  /**
   * Files changed since the last reload that was applied: a handler edited while the
   * manifest was broken is rebuilt when the manifest is fixed, not forgotten with the
   * refused reload.
   */
  private readonly unapplied = new Set<string>();
  /** Whether the manifest running is the file on disk (a warning on /readyz when not). */
  readonly freshness: ManifestFreshness;

  constructor(private readonly options: ReloadPipelineOptions) {
    this.recycler = new ThreadRecycler(options.executors.thread);
    this.freshness = new ManifestFreshness(options.manifestPath);
  }

  /** The last good manifest, or null before the first successful load. */
  get manifest(): Manifest | null {
    return this.current;
  }

  get jobs(): JobDefinition[] {
    return this.current?.jobs ?? [];
  }

  /** The `after` edges of the running manifest, by upstream job. */
  get after(): AfterIndex {
    return this.afterIndex;
  }

  /**
   * The load a runner's start begins with. With `watch` (hot reload) the watcher of the
   * manifest and handlers (and their imports) is made first, so that the read names the
   * handler files to watch. A refused load stops the pipeline and throws its error; an
   * applied one resolves once the watcher is ready and inline handlers are preloaded.
   */
  async start(): Promise<void> {
    if (this.options.watch) this.watcher = new ProjectWatcher({ logger: this.options.logger, onChange: (files) => void this.reload(files) });
    const result = await this.reload();
    if (!result.ok) {
      await this.close();
      throw result.error;
    }
    await this.watcher?.ready;
    this.preloadInline();
  }

  /** Reads the manifest again and applies what changed; `changedFiles` limits what is rebuilt (all, when not given). */
  reload(changedFiles?: string[]): Promise<ReloadResult> {
    const next = this.reloading.then(() => this.reloadNow(changedFiles));
    this.reloading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  /**
   * Scheduled inline handlers (not paused) are imported once the runner starts (and after each reload),
   * so their first fire does not wait for the import: 1,000 jobs on one schedule otherwise
   * start their first second ~50 ms late. Invoke-only jobs load when invoked.
   */
  private preloadInline(): void {
    if (this.options.isStopping()) return;
    const modules = new Set<string>();
    for (const { def, modulePath } of this.options.active.values()) {
      if (def.mode === "inline" && def.enabled && def.schedule && !this.options.paused.has(def.name)) modules.add(modulePath);
    }
    for (const modulePath of modules) this.options.executors.inline.preload?.(modulePath);
  }

  /** Stops watching and recycling; the compiler's context is disposed. */
  async close(): Promise<void> {
    this.recycler.stop();
    await this.watcher?.close();
    await this.manifests.close();
  }

  async dispose(): Promise<void> {
    await this.compiler?.dispose();
  }

  private async reloadNow(changedFiles: string[] | undefined): Promise<ReloadResult> {
    const { logger, isStarted } = this.options;
    const began = performance.now();
    let result: ReloadResult;
    for (const file of changedFiles ?? []) this.unapplied.add(file);
    try {
      const read = await this.manifests.read(this.options.manifestPath, { env: this.options.env, handlerPaths: this.watcher !== null });
      this.namedHandlers = read.handlerPaths ?? this.namedHandlers;
      if (read.error) throw read.error;
      const next = read.manifest!;
      const { compiled, rebuilt } = await this.compileChanged(next, changedFiles && [...this.unapplied]);
      const diff = await diffJobs(this.current?.jobs ?? [], next.jobs);
      const replacedModules = await this.apply(next, compiled, diff);
      // The pool's size follows the manifest's `threads`: a reload resizes it, runs in flight finish where they are.
      (this.options.executors.thread as Executor & { resize?: (n: number) => void }).resize?.(next.threads ?? availableParallelism());
      if (replacedModules.some((job) => job.def.mode === "thread")) this.recycler.afterReload();
      if (isStarted()) this.preloadInline();
      if (isStarted()) await this.options.onApplied(next);
      this.unapplied.clear();
      result = { ok: true, diff, rebuilt, durationMs: performance.now() - began };
      if (isStarted() || this.options.watch) logger.info({ event: "reload-applied", ...diff, rebuilt: rebuilt.length, durationMs: round(result.durationMs) }, `reloaded: ${describeDiff(diff, rebuilt.length)}`);
    } catch (err) {
      // Anything but a RunletError is a bug in runlet, not in the project: INTERNAL, with its stack.
      const error = err instanceof RunletError ? err : new RunletError("INTERNAL", `reloading failed unexpectedly: ${(err as Error)?.stack ?? String(err)}`, { cause: err });
      result = { ok: false, diff: null, rebuilt: [], durationMs: performance.now() - began, error };
      if (this.current) logger.error({ event: "reload-refused", code: error.code }, `reload refused; the last good manifest and build keep running:\n${error.message}`);
    }
    this.watcher?.update(this.watchedFiles());
    this.freshness.note(result);
    this.options.onResult(result);
    return result;
  }

  /** Compiles new handlers and those touched by `changedFiles`; reuses the rest. */
  private async compileChanged(manifest: Manifest, changedFiles: string[] | undefined): Promise<{ compiled: Map<string, CompiledHandler>; rebuilt: string[] }> {
    const compiler = (this.compiler ??= new HandlerCompiler({ root: manifest.root }));
    const changed = changedFiles && new Set(changedFiles);
    const handlers = [...new Set(manifest.jobs.map((j) => j.handlerPath))];
    const stale = handlers.filter((h) => {
      const known = this.compiled.get(h);
      return !known || !changed || known.inputs.some((input) => changed.has(input));
    });
    const { compiled, problems } = await compiler.compileAll(stale);
    if (problems.length > 0) throw new ManifestError(problems);
    const result = new Map(handlers.map((h) => [h, compiled.get(h) ?? this.compiled.get(h)!]));
    const rebuilt = stale.filter((h) => compiled.get(h)?.modulePath !== this.compiled.get(h)?.modulePath);
    this.compiled = result;
    return { compiled: result, rebuilt };
  }

  /**
   * Swaps in the new jobs; returns those whose module changed. Runs in flight keep theirs.
   * Job by job in time slices: rescheduling 10,000 jobs at once held the event loop ~0.5 s.
   * Between slices a fire sees each job either as it was or as it is now, never half-changed.
   */
  private async apply(next: Manifest, compiled: Map<string, CompiledHandler>, diff: ManifestDiff): Promise<ActiveJob[]> {
    const { active, scheduler } = this.options;
    const slices = new TimeSlices();
    const replaced: ActiveJob[] = [];
    // A set, not Array.includes: at 100,000 added jobs the scan was quadratic (28 s vs 11 s).
    const toSchedule = new Set([...diff.rescheduled, ...diff.added]);
    for (const name of diff.removed) {
      await slices.pause();
      scheduler.remove(name);
      active.delete(name);
    }
    for (const job of next.jobs) {
      await slices.pause();
      const entry = { def: job, modulePath: compiled.get(job.handlerPath)!.modulePath };
      const before = active.get(job.name);
      if (before && before.modulePath !== entry.modulePath) replaced.push(entry);
      active.set(job.name, entry);
      if (toSchedule.has(job.name)) {
        if (job.enabled && job.schedule) scheduler.add(job.name, job.schedule);
        else scheduler.remove(job.name);
      }
    }
    this.current = next;
    this.afterIndex = new AfterIndex(next.jobs);
    return replaced;
  }

  /** The manifest, every local file each handler imports, and handler files not there yet. */
  private watchedFiles(): string[] {
    // `.env` too: an edit of a value the manifest reads with ${env:...} reloads it.
    const files = new Set<string>([this.options.manifestPath, join(dirname(this.options.manifestPath), ".env"), ...this.namedHandlers]);
    for (const compiled of this.compiled.values()) for (const input of compiled.inputs) files.add(input);
    return [...files];
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
