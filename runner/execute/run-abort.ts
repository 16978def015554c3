import type { AbortSource } from "../contracts/index.js";

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
  /** Most runs have one listener at a time (the attempt or the backoff): no array for it. */
  private listener: (() => void) | null = null;
  private others: Array<() => void> | null = null;

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
    const { listener, others } = this;
    this.listener = null;
    this.others = null;
    listener?.();
    for (const other of others ?? []) other();
  }

  subscribe(listener: () => void): void {
    if (this.listener === null) this.listener = listener;
    else (this.others ??= []).push(listener);
  }

  unsubscribe(listener: () => void): void {
    if (this.listener === listener) this.listener = null;
    else if (this.others) this.others = this.others.filter((other) => other !== listener);
  }
}
