import type Database from "better-sqlite3";
import type { Logger } from "../log/logger.js";
import { linesJsonOf, type RunLogs } from "../contracts/index.js";
import { LogWrites } from "./log-writes.js";

/**
 * The kept log lines of runs in a SQLite store: one row per run, its lines as one JSON
 * array (read whole, written whole: a run's log is bounded). A trigger deletes a run's
 * row when its run is deleted, so every way history is trimmed trims logs too.
 * Created if missing, apart from the numbered schema steps of the runs table.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS run_logs (
    run_id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    lines TEXT NOT NULL,
    dropped INTEGER NOT NULL
  );
  CREATE TRIGGER IF NOT EXISTS run_logs_trim AFTER DELETE ON runs
  BEGIN
    DELETE FROM run_logs WHERE run_id = OLD.run_id;
  END;
`;

export class SqliteLogs {
  private readonly writes: LogWrites;
  private readonly upsert: Database.Statement;
  private readonly select: Database.Statement;

  constructor(db: Database.Database, logger: Logger, file: string, recordsWritten: () => Promise<void>) {
    // Once per open; IF NOT EXISTS makes it a no-op on a file that has the table.
    if (!db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'run_logs_trim'").get()) db.exec(SCHEMA);
    // Only a run still in `runs` gets a row: one trimmed before its log arrived leaves none behind.
    this.upsert = db.prepare(
      `INSERT INTO run_logs (run_id, job, lines, dropped) SELECT @runId, @job, @lines, @dropped WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = @runId)
       ON CONFLICT (run_id) DO UPDATE SET lines = excluded.lines, dropped = excluded.dropped`,
    );
    this.select = db.prepare("SELECT run_id, job, lines, dropped FROM run_logs WHERE run_id = ?");
    const writeAll = db.transaction((batch: RunLogs[]) => {
      for (const logs of batch) this.upsert.run({ runId: logs.runId, job: logs.job, lines: linesJsonOf(logs), dropped: logs.dropped });
    });
    this.writes = new LogWrites({ write: (batch) => writeAll.immediate(batch), before: recordsWritten, logger, target: file });
  }

  add(logs: RunLogs): Promise<void> {
    return this.writes.add(logs);
  }

  /** Queued logs of the run win over what is written (they are newer). */
  read(runId: string): RunLogs | null {
    const queued = this.writes.pending(runId);
    if (queued) return { runId: queued.runId, job: queued.job, dropped: queued.dropped, lines: JSON.parse(linesJsonOf(queued)) };
    const row = this.select.get(runId) as { run_id: string; job: string; lines: string; dropped: number } | undefined;
    return row ? { runId: row.run_id, job: row.job, lines: JSON.parse(row.lines), dropped: row.dropped } : null;
  }

  /** Writes what is queued (before a read of runs, as the store settles its records). */
  settle(): Promise<void> {
    return this.writes.settle();
  }

  get size(): number {
    return this.writes.size;
  }

  close(): Promise<void> {
    return this.writes.close();
  }
}
