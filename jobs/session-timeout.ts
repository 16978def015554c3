import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { defineJob } from "runlet/job";

interface Params {
  /** SQLite file holding the `sessions` table, relative to the working directory. */
  database: string;
  /** Sessions idle longer than this are deleted. */
  maxAgeMinutes: number;
  /** Rows deleted per transaction: short transactions keep the table writable for others. */
  batchSize: number;
}

/**
 * Deletes expired sessions in batches. Idempotent: a retry or an overlapping run deletes
 * only what is still expired, so running it twice is harmless. Runs in a worker thread
 * (mode: thread) so a slow delete never stalls the scheduler.
 */
export default defineJob<Params>(async (ctx) => {
  const { database, maxAgeMinutes, batchSize } = ctx.params;
  const file = resolve(database);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, last_seen_at INTEGER NOT NULL)");
    const cutoff = ctx.fireDate.getTime() - maxAgeMinutes * 60_000;
    const deleteBatch = db.prepare("DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE last_seen_at < ? LIMIT ?)");
    let deleted = 0;
    let batches = 0;
    for (;;) {
      // Between batches, honour shutdown and timeout: what is deleted stays deleted.
      if (ctx.signal.aborted) break;
      const { changes } = deleteBatch.run(cutoff, batchSize);
      deleted += changes;
      batches++;
      if (changes < batchSize) break;
      await new Promise((r) => setImmediate(r));
    }
    const remaining = (db.prepare("SELECT count(*) AS n FROM sessions").get() as { n: number }).n;
    ctx.log.info({ deleted, batches, remaining, cutoff: new Date(cutoff).toISOString() }, "expired sessions removed");
    return { deleted, remaining };
  } finally {
    db.close();
  }
});
