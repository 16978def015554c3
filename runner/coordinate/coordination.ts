import type { JobDefinition, RunGate } from "../contracts/index.js";
import type { StoredRun } from "../store/run-store.js";
import type { Partition } from "./partition.js";

export type { Partition } from "./partition.js";

/**
 * Who may run what, when more than one process could: the stage between the triggers and
 * the executions. Chosen by how the store was opened (see `coordinationFor`): replicas on
 * a shared database claim every fire (ReplicaGroup), a runner on a SQLite file owns the
 * file alone (SoleRunner), a memory store needs nothing (Solo).
 */
export interface Coordination {
  /** What every fire and invoke passes before it runs; undefined: everything runs here. */
  readonly gate: RunGate | undefined;
  /** Which jobs this process fires on schedule when replicas split them; undefined: every job. */
  readonly partition: Partition | undefined;
  /** Before the first fire. Throws when this runner must not start (another owns the store). */
  join(jobs: readonly JobDefinition[]): Promise<void>;
  /** After a reload: this runner's jobs now. */
  publish(jobs: readonly JobDefinition[]): Promise<void>;
  /** Hands a run's record to the store (with what the coordination adds: a fence). */
  record(run: StoredRun): Promise<void>;
  /** Shutdown begins: take over nothing more. */
  stopTakingOver(): void;
  /**
   * Shutdown begins, after stopTakingOver: null when this process may stop firing at once;
   * else it fires on until the promise resolves (other replicas can fire its jobs by then).
   */
  handOff(): Promise<void> | null;
  /** Shutdown ends, before the store closes. */
  leave(): Promise<void>;
}

/** One process, one in-memory store: nothing to coordinate. */
export class Solo implements Coordination {
  readonly gate = undefined;
  readonly partition = undefined;
  constructor(private readonly store: { record(run: StoredRun): Promise<void> }) {}
  async join(): Promise<void> {}
  async publish(): Promise<void> {}
  record(run: StoredRun): Promise<void> {
    return this.store.record(run);
  }
  stopTakingOver(): void {}
  handOff(): null {
    return null;
  }
  async leave(): Promise<void> {}
}
