import type pg from "pg";
import type { Logger } from "../../log/logger.js";
import { linesJsonOf, type RunLogs } from "../../contracts/index.js";
import { LogWrites } from "../log-writes.js";
import { table } from "./pg-config.js";
import { withoutNul } from "./pg-rows.js";

/**
 * The kept log lines of runs in a PostgreSQL store: one row per run, its lines one JSON
 * array. A statement-level trigger deletes the logs of the runs a statement deleted, so
 * every way history is trimmed (each replica's pruning) trims logs too. Created if missing,
 * apart from the numbered schema steps, under the same advisory lock (replicas start together).
 */
export async function ensureLogTable(pool: pg.Pool, schema: string): Promise<void> {
  const s = `"${schema}"`;
  const client = await pool.connect();
  client.on("error", () => undefined /* the query rejects; the caller reports it */);
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`runlet:migrate:${schema}`]);
    const { rows } = await client.query("SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND t.tgname = 'run_logs_trim'", [schema]);
    if (rows.length === 0) {
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${s}.run_logs (run_id text PRIMARY KEY, job text NOT NULL, lines text NOT NULL, dropped int NOT NULL);
        CREATE OR REPLACE FUNCTION ${s}.run_logs_trim() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          DELETE FROM ${s}.run_logs l USING gone g WHERE l.run_id = g.run_id;
          RETURN NULL;
        END $$;
        CREATE TRIGGER run_logs_trim AFTER DELETE ON ${s}.runs REFERENCING OLD TABLE AS gone
          FOR EACH STATEMENT EXECUTE FUNCTION ${s}.run_logs_trim();`);
    }
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined /* the connection is gone; the error below says why */);
    throw err;
  } finally {
    client.release();
  }
}

export class PostgresLogs {
  private readonly writes: LogWrites;
  private readonly runLogs: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
    logger: Logger,
    where: string,
    recordsWritten: () => Promise<void>,
  ) {
    this.runLogs = table(schema, "run_logs");
    const runs = table(schema, "runs");
    // Only runs still in `runs` get a row: one trimmed before its log arrived leaves none behind.
    const upsert = `
      INSERT INTO ${this.runLogs} (run_id, job, lines, dropped)
      SELECT x.run_id, x.job, x.lines, x.dropped FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, job text, lines text, dropped int)
      WHERE EXISTS (SELECT 1 FROM ${runs} r WHERE r.run_id = x.run_id)
      ON CONFLICT (run_id) DO UPDATE SET lines = excluded.lines, dropped = excluded.dropped`;
    this.writes = new LogWrites({
      write: async (batch) => {
        const rows = batch.map((l) => ({ run_id: l.runId, job: l.job, lines: withoutNul(linesJsonOf(l)), dropped: l.dropped }));
        await this.pool.query(upsert, [withoutNul(JSON.stringify(rows))]);
      },
      before: recordsWritten,
      logger,
      target: where,
    });
  }

  add(logs: RunLogs): Promise<void> {
    return this.writes.add(logs);
  }

  /** Queued logs of the run win over what is written (they are newer). */
  async read(runId: string): Promise<RunLogs | null> {
    await this.writes.settle();
    const queued = this.writes.pending(runId);
    if (queued) return { runId: queued.runId, job: queued.job, dropped: queued.dropped, lines: JSON.parse(linesJsonOf(queued)) };
    const { rows } = await this.pool.query<{ run_id: string; job: string; lines: string; dropped: number }>(`SELECT run_id, job, lines, dropped FROM ${this.runLogs} WHERE run_id = $1`, [runId]);
    const row = rows[0];
    return row ? { runId: row.run_id, job: row.job, lines: JSON.parse(row.lines), dropped: row.dropped } : null;
  }

  get size(): number {
    return this.writes.size;
  }

  close(): Promise<void> {
    return this.writes.close();
  }
}
