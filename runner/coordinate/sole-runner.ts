import { RunletError } from "../errors.js";
import type { Logger } from "../log/logger.js";
import { currentOwner, ownerIsGone } from "../store/owner.js";
import type { RunStore } from "../store/run-store.js";
import type { SoleOwnerStore } from "../store/sole-owner.js";
import { Solo } from "./coordination.js";

/**
 * A store only one runner may schedule from (a SQLite file): `join` takes it, or refuses
 * with STORE_BUSY naming the runner that has it. Two schedulers on one file would each
 * run every job, and `overlap: skip` could not see the other's runs. An owner whose pid
 * is gone (a crash, kill -9) does not count. Reading the store (history, list) and
 * one-off invokes never take it.
 */
export class SoleRunner extends Solo {
  private readonly owner = currentOwner();
  private taken = false;

  constructor(
    private readonly sole: SoleOwnerStore,
    store: RunStore,
    private readonly logger: Logger,
  ) {
    super(store);
  }

  override async join(): Promise<void> {
    // Right before this process runs anything: a record of its own pid is an earlier process's (pid 1 in a container).
    const held = await this.sole.takeOwnership({ ...this.owner, since: new Date().toISOString() }, (owner) => ownerIsGone(owner, { selfIsGone: true }));
    if (held) {
      throw new RunletError(
        "STORE_BUSY",
        `${this.sole.where} is in use by another runlet runner (pid ${held.pid} on ${held.host}, since ${held.since}): two runners on one SQLite file would both run every job. Stop that one first, or give this one its own --store file. Reading it (history, list) works beside it.`,
      );
    }
    this.taken = true;
    this.logger.debug({ store: this.sole.where }, "this runner owns the store");
  }

  override async leave(): Promise<void> {
    if (!this.taken) return;
    this.taken = false;
    await this.sole.releaseOwnership(this.owner).catch((err: unknown) => this.logger.warn({ err }, `could not release ${this.sole.where}; the next runner takes it over once this process is gone`));
  }
}
