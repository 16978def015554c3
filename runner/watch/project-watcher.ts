import { existsSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "../log/logger.js";

export interface ProjectWatcherOptions {
  /** Called once per burst of changes with every file that changed, was added or removed. */
  onChange: (files: string[]) => void;
  logger: Logger;
  /**
   * Quiet time that ends a burst. Editors save as write + rename + chmod within a few ms;
   * a short window folds them into one reload without a noticeable wait. @default 8
   */
  debounceMs?: number;
}

const CHOKIDAR_CHANGE_THROTTLE_MS = 50;

/** What tells two versions of a file apart without reading it. */
function signature(path: string): string {
  try {
    const stats = statSync(path);
    return `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
  } catch {
    // Gone: that is a state too, and its own signature.
    return "missing";
  }
}

/**
 * Watches the files a running project depends on: the manifest, each handler and every
 * local file it imports, and handler files the manifest names that do not exist yet.
 *
 * chokidar does not report a file that appears at a path it was asked to watch while it
 * did not exist, so the watcher watches the *folders* of the wanted files (one level deep)
 * and filters events by the wanted set, which `update()` replaces after every reload.
 */
export class ProjectWatcher {
  private wanted = new Set<string>();
  private folders = new Set<string>();
  private readonly watcher: FSWatcher;
  private pending = new Set<string>();
  private readonly rechecks = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined;
  private readonly debounceMs: number;
  readonly ready: Promise<void>;

  constructor(private readonly options: ProjectWatcherOptions) {
    this.debounceMs = options.debounceMs ?? 8;
    this.watcher = watch([], {
      ignoreInitial: true,
      depth: 0,
      ignored: (path) => !this.folders.has(path) && !this.wanted.has(path),
    });
    this.ready = new Promise((resolveReady) => this.watcher.once("ready", () => resolveReady()));
    for (const event of ["add", "change", "unlink"] as const) this.watcher.on(event, (path: string) => this.changed(resolve(path)));
    this.watcher.on("error", (err) => options.logger.warn({ err }, "file watcher error"));
  }

  /** Replaces the set of watched files (absolute paths). Nothing under node_modules is passed in. */
  update(files: Iterable<string>): void {
    const wanted = new Set([...files].map((f) => resolve(f)));
    const folders = new Set([...wanted].map((f) => dirname(f)));
    const added = [...folders].filter((f) => !this.folders.has(f));
    const removed = [...this.folders].filter((f) => !folders.has(f));
    // A file that already existed in a watched folder while it was not wanted was ignored,
    // so chokidar does not track it and would never report its change or deletion: add it.
    // (One that does not exist yet is left to the folder's watcher, which reports it appearing.)
    const newlyWanted = [...wanted].filter((f) => !this.wanted.has(f) && this.folders.has(dirname(f)) && existsSync(f));
    this.wanted = wanted;
    this.folders = folders;
    if (removed.length > 0) this.watcher.unwatch(removed);
    if (added.length > 0 || newlyWanted.length > 0) this.watcher.add([...added, ...newlyWanted]);
  }

  get watchedFiles(): ReadonlySet<string> {
    return this.wanted;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    for (const timer of this.rechecks.values()) clearTimeout(timer);
    await this.watcher.close();
  }

  private changed(path: string): void {
    if (!this.wanted.has(path)) return;
    this.recheckLater(path);
    this.pending.add(path);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const files = [...this.pending];
      this.pending = new Set();
      this.options.onChange(files);
    }, this.debounceMs);
  }

  /**
   * chokidar drops a `change` of a path within 50 ms of the previous one, with no trailing
   * event: a second quick save would never reload. So each change is followed by a look at
   * the file a little later, and a file that changed meanwhile is reported again.
   */
  private recheckLater(path: string): void {
    clearTimeout(this.rechecks.get(path));
    const before = signature(path);
    this.rechecks.set(
      path,
      setTimeout(() => {
        this.rechecks.delete(path);
        if (signature(path) !== before) this.changed(path);
      }, CHOKIDAR_CHANGE_THROTTLE_MS + 10),
    );
  }
}
