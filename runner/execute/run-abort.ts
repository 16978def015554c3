import type { AbortSource } from "./executor.js";

/**
 * A run's abort state, with its AbortSignal made only when something reads it (a handler's
 * `ctx.signal`). An AbortController costs ~1 KB and ~2 µs on every run, for an event most
 * runs never see; when a thousand jobs fire at once that is garbage the collector must
 * sweep while handlers wait to start.
 */
export class RunAbort implements AbortSource {
  aborted = false;
  reason: unknown = undefined;
  private controller: AbortController | null = null;
  private listeners: Array<() => void> | null = null;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = null;
    for (const listener of listeners ?? []) listener();
  }

  subscribe(listener: () => void): () => void {
    (this.listeners ??= []).push(listener);
    return () => {
      const at = this.listeners?.indexOf(listener) ?? -1;
      if (at >= 0) this.listeners!.splice(at, 1);
    };
  }
}
