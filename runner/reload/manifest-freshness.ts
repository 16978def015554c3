import { statSync } from "node:fs";

/**
 * Whether the manifest running is the one on disk: the file's modification time when the
 * running manifest was loaded, against the file's now. A runner without `--watch` that
 * was not sent SIGHUP, or whose last reload was refused, runs an older manifest than the
 * file: a warning for /readyz and the dashboard, never a failure (the last good one runs).
 */
export class ManifestFreshness {
  private loadedMtimeMs: number | null = null;
  private refused: { at: string; message: string } | null = null;

  constructor(
    private readonly file: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** After each reload: applied (the file as it is now runs) or refused (why). */
  note(result: { ok: boolean; error?: { message: string } }): void {
    if (result.ok) {
      this.loadedMtimeMs = this.mtime();
      this.refused = null;
    } else {
      this.refused = { at: new Date(this.now()).toISOString(), message: result.error?.message ?? "see the runner's log" };
    }
  }

  /** What an operator should know: an empty list when the file on disk is what runs. */
  warnings(): string[] {
    const onDisk = this.mtime();
    if (this.loadedMtimeMs === null || onDisk === null || onDisk <= this.loadedMtimeMs) return [];
    const why = this.refused ? `its reload was refused at ${this.refused.at}: ${this.refused.message}` : "it has not been reloaded (no --watch; send SIGHUP to reload)";
    return [`the manifest on disk (changed ${new Date(onDisk).toISOString()}) is newer than the one running (${new Date(this.loadedMtimeMs).toISOString()}): ${why}`];
  }

  /** The last refused reload, while the manifest it refused is still on disk. */
  get lastRefused(): { at: string; message: string } | null {
    return this.warnings().length > 0 ? this.refused : null;
  }

  private mtime(): number | null {
    try {
      return statSync(this.file).mtimeMs;
    } catch {
      return null; // the file is gone: the running manifest is all there is
    }
  }
}
