/**
 * Runs in flight by id (a job's, or a pool's on its workers): a Map's get/set/delete/size/
 * values. Most of the time there is one, and a Map going from empty to one entry and back
 * allocates twice a run (its table grows on the set and shrinks on the delete, ~150 bytes
 * each): the one run is held in a field, and a Map is made only for a second one at once.
 */
export class RunningRuns<R, K extends string | number = string> {
  private oneId: K | null = null;
  private one: R | null = null;
  private more: Map<K, R> | null = null;

  get size(): number {
    return (this.oneId === null ? 0 : 1) + (this.more?.size ?? 0);
  }

  get(runId: K): R | undefined {
    if (runId === this.oneId) return this.one!;
    return this.more?.get(runId);
  }

  set(runId: K, run: R): void {
    if (runId === this.oneId || (this.oneId === null && !this.more?.has(runId))) {
      this.oneId = runId;
      this.one = run;
    } else {
      (this.more ??= new Map()).set(runId, run);
    }
  }

  delete(runId: K): boolean {
    if (runId === this.oneId) {
      this.oneId = null;
      this.one = null;
      return true;
    }
    return this.more?.delete(runId) ?? false;
  }

  /** Oldest first is not promised: callers abort or wait for them all. */
  *values(): IterableIterator<R> {
    const one = this.one;
    const more = this.more ? [...this.more.values()] : [];
    if (this.oneId !== null) yield one!;
    yield* more;
  }
}
