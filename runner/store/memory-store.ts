import { RunletError } from "../errors.js";
import { linesJsonOf, type RunLogs, type RunRecord } from "../contracts/index.js";
import { lostError } from "./owner.js";
import { encodeError, encodeResult } from "./result-json.js";
import { handled } from "./write-queue.js";
import { storeDefaults, type JobState, type RunOwner, type RunStore, type StoreOptions, type StoredRun } from "./run-store.js";

interface Entry {
  /** Insertion order: breaks ties of equal times, as the SQLite row id does. */
  seq: number;
  /** The record with `result: null`: the result is kept as its stored JSON, read back by {@link read}. */
  record: RunRecord;
  result: string | null;
  owner: RunOwner | null;
  /** Its kept log lines, as JSON; null until the run's log arrives. */
  logs: RunLogs | null;
}

/**
 * Run history in this process only (tests, `--store memory`). Behaves as the SQLite
 * store does, results and errors included (kept as their stored JSON form), so the same
 * contract tests hold for both; writes are immediate, so `pending()` is always 0.
 */
export class MemoryStore implements RunStore {
  /**
   * Entries by job, then run id: retention and a job's history touch only that job's runs.
   * There is no map of all runs: a run's records name its job, and what looks a run up by
   * id alone (a log, `findRun`) is rare. A map every run is added to and deleted from, for
   * the life of the process, made V8 collect its whole heap about every 60,000 runs (see trim).
   */
  private readonly byJob = new Map<string, Map<string, Entry>>();
  /** Finished entries by job: what retention counts, without walking runs still going. */
  private readonly finishedByJob = new Map<string, Map<string, Entry>>();
  private readonly states = new Map<string, JobState>();
  private seq = 0;
  private closed = false;
  private readonly keepFor: (job: string) => number;
  private readonly maxResultBytes: number;

  constructor(private readonly options: StoreOptions) {
    this.keepFor = options.keepFor ?? storeDefaults.keepFor;
    this.maxResultBytes = options.maxResultBytes ?? storeDefaults.maxResultBytes;
  }

  record(run: StoredRun): Promise<void> {
    if (this.closed) return this.refuse(`run ${run.runId} of job ${run.job}`);
    // Field by field rather than spread: this runs twice per run, on the dispatch path.
    const record: RunRecord = {
      runId: run.runId,
      job: run.job,
      status: run.status,
      scheduledAt: run.scheduledAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      attempt: run.attempt,
      error: encodeError(run.error),
      result: null,
      reason: run.reason ?? null,
    };
    if (run.trigger) record.trigger = run.trigger;
    if (run.upstreamRunId) record.upstreamRunId = run.upstreamRunId;
    // Kept (hidden) by the dispatcher already; shared by the records of a job's fires, cloned on read.
    if (run.params !== undefined) record.params = run.params;
    if (run.attempts !== undefined) record.attempts = run.attempts;
    // Kept as text, as the SQLite store keeps it: parsed when read, not on every write.
    const result = run.result === null || run.result === undefined ? null : encodeResult(run.result, this.maxResultBytes);
    const owner = run.owner ?? null;
    const entry = this.byJob.get(run.job)?.get(run.runId);
    if (entry) {
      // The same run again (it ended, or a retry began): changed in place, so the indexes
      // holding it need no delete and insert.
      entry.record = record;
      entry.result = result;
      entry.owner = owner;
      if (record.status === "running") this.finishedByJob.get(record.job)?.delete(record.runId);
      else listIn(this.finishedByJob, record.job).set(record.runId, entry);
    } else {
      this.list({ seq: ++this.seq, record, result, owner, logs: null });
    }
    if (record.status !== "running") this.trimLater(run.job);
    return Promise.resolve();
  }

  async history(query: { job?: string; limit: number }): Promise<RunRecord[]> {
    this.readable();
    this.trimForReading(query.job === undefined ? [...this.finishedByJob.keys()] : [query.job]);
    const entries = query.job === undefined ? [...this.entries()] : [...(this.byJob.get(query.job)?.values() ?? [])];
    return entries.sort(newestFirst).slice(0, Math.max(0, query.limit)).map(read);
  }

  async lastRuns(): Promise<Map<string, RunRecord>> {
    this.readable();
    this.trimForReading([...this.finishedByJob.keys()]);
    const last = new Map<string, RunRecord>();
    for (const [job, entries] of this.byJob) {
      let newest: Entry | null = null;
      for (const entry of entries.values()) if (!newest || newestFirst(entry, newest) < 0) newest = entry;
      if (newest) last.set(job, read(newest));
    }
    return last;
  }

  async jobState(job: string): Promise<JobState> {
    this.readable();
    const state = this.states.get(job);
    return { lastFireAt: state?.lastFireAt ? new Date(state.lastFireAt) : null, paused: state?.paused ?? false };
  }

  setJobState(job: string, patch: { lastFireAt?: Date; paused?: boolean }): Promise<void> {
    if (this.closed) return this.refuse(`the state of job ${job}`);
    const state = this.states.get(job) ?? { lastFireAt: null, paused: false };
    if (patch.lastFireAt !== undefined) state.lastFireAt = new Date(patch.lastFireAt);
    if (patch.paused !== undefined) state.paused = patch.paused;
    this.states.set(job, state);
    return Promise.resolve();
  }

  async reapLost(isGone: (owner: RunOwner) => boolean): Promise<RunRecord[]> {
    this.readable();
    const reaped: RunRecord[] = [];
    for (const entry of this.entries()) {
      if (entry.record.status !== "running" || !entry.owner || !isGone(entry.owner)) continue;
      entry.record = { ...entry.record, status: "lost", error: lostError(entry.owner) };
      entry.owner = null;
      this.list(entry);
      reaped.push(read(entry));
    }
    return reaped;
  }

  async prune(job: string, keep: number): Promise<void> {
    this.readable();
    this.trim(job, keep);
  }

  recordLogs(logs: RunLogs): Promise<void> {
    if (this.closed) return this.refuse(`the log of run ${logs.runId}`);
    // A run no longer here was trimmed already: its log goes with it.
    const entry = this.byJob.get(logs.job)?.get(logs.runId);
    // Kept as JSON, as the other stores keep it: a copy the caller cannot change.
    if (entry) entry.logs = { runId: logs.runId, job: logs.job, dropped: logs.dropped, lines: [], linesJson: linesJsonOf(logs) };
    return Promise.resolve();
  }

  async runLogs(runId: string): Promise<RunLogs | null> {
    this.readable();
    const logs = this.entryOf(runId)?.logs;
    return logs ? { runId: logs.runId, job: logs.job, dropped: logs.dropped, lines: JSON.parse(logs.linesJson!) } : null;
  }

  async findRun(id: string): Promise<RunRecord | null> {
    this.readable();
    const exact = this.entryOf(id);
    if (exact) return read(exact);
    const matches = [...this.entries()].filter((e) => e.record.runId.startsWith(id));
    return matches.length === 0 ? null : read(matches.sort(newestFirst)[0]!);
  }

  pending(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /**
   * Retention without a walk of the job's runs on every write: a job's finished runs may
   * go `keep` (at least 16) over before the oldest are dropped, all in one sort. Dropping
   * the oldest at each write walked all `keep` of them: ~20 µs a run at `keep: 1000`.
   * Reads trim first, so history never shows more than `keep`.
   */
  private trimLater(job: string): void {
    const keep = Math.max(0, this.keepFor(job));
    if ((this.finishedByJob.get(job)?.size ?? 0) > keep + Math.max(16, keep)) this.trim(job, keep);
  }

  /** Before a read: every job read is down to its `keep` (writes let it run over, see trimLater). */
  private trimForReading(jobs: string[]): void {
    for (const job of jobs) this.trim(job, this.keepFor(job));
  }

  /**
   * Drops all but the `keep` newest finished runs of `job`, into new maps rather than by
   * deleting from the old ones. A map that lives long enough has its table in V8's old
   * generation, and then each table it grows into is made there too; a table it leaves
   * still points at the entries deleted after, which the young generation's collections
   * must then keep, until the whole heap is collected. Deleted from, a busy job's maps made
   * 11% of the young generation survive each collection (0.7% otherwise) and the whole heap
   * be collected six times as often; a new map, a few µs every `keep` runs, starts young.
   */
  private trim(job: string, keep: number): void {
    const finished = this.finishedByJob.get(job);
    if (!finished || finished.size <= Math.max(0, keep)) return;
    const dropped = new Set([...finished.values()].sort(newestFirst).slice(Math.max(0, keep)));
    this.finishedByJob.set(job, without(finished, dropped));
    this.byJob.set(job, without(this.byJob.get(job)!, dropped));
  }

  /** Every entry, job by job. */
  private *entries(): Generator<Entry> {
    for (const entries of this.byJob.values()) yield* entries.values();
  }

  /** A run by its id alone: one lookup per job. */
  private entryOf(runId: string): Entry | undefined {
    for (const entries of this.byJob.values()) {
      const entry = entries.get(runId);
      if (entry) return entry;
    }
    return undefined;
  }

  private list(entry: Entry): void {
    const { job, runId, status } = entry.record;
    listIn(this.byJob, job).set(runId, entry);
    if (status !== "running") listIn(this.finishedByJob, job).set(runId, entry);
  }


  private refuse(what: string): Promise<void> {
    const error = new RunletError("STORE_WRITE", `${what} arrived after the run store memory was closed; it is not recorded`);
    this.options.logger.warn({ err: error }, error.message);
    return handled(Promise.reject(error));
  }

  private readable(): void {
    if (this.closed) throw new RunletError("STORE_OPEN", "the run store memory is closed; open a new one to read history");
  }
}

function without(entries: Map<string, Entry>, dropped: Set<Entry>): Map<string, Entry> {
  const kept = new Map<string, Entry>();
  for (const [runId, entry] of entries) if (!dropped.has(entry)) kept.set(runId, entry);
  return kept;
}

function listIn(index: Map<string, Map<string, Entry>>, job: string): Map<string, Entry> {
  let entries = index.get(job);
  if (!entries) index.set(job, (entries = new Map()));
  return entries;
}

/** Newest first: by scheduledAt, then startedAt (a missing start counts as oldest), then insertion. */
function newestFirst(a: Entry, b: Entry): number {
  return (
    compareDesc(a.record.scheduledAt, b.record.scheduledAt) ||
    compareDesc(a.record.startedAt, b.record.startedAt) ||
    b.seq - a.seq
  );
}

function compareDesc(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? 1 : -1;
}

/** Callers get their own copy: a record read must not change what the store holds. */
function read(entry: Entry): RunRecord {
  const record = structuredClone(entry.record);
  if (entry.result !== null) record.result = JSON.parse(entry.result);
  return record;
}
