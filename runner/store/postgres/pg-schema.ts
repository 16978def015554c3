import type { Pool } from "pg";
import { RunletError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";

/**
 * The schema, as steps, in a schema of runlet's own. `schema_migrations` lists the steps
 * applied; opening applies the rest in one transaction. Add a step to change the schema;
 * never edit one that has shipped. `{s}` stands for the quoted schema name.
 */
export const migrations: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      -- The run history, as every store keeps it (one row per run id).
      CREATE TABLE {s}.runs (
        seq bigserial NOT NULL,
        run_id text PRIMARY KEY,
        job text NOT NULL,
        status text NOT NULL,
        scheduled_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        attempt int NOT NULL,
        error text,
        result text NOT NULL DEFAULT 'null',
        reason text,
        trigger_kind text,
        owner_pid int,
        owner_host text
      );
      CREATE INDEX runs_job_time ON {s}.runs (job, scheduled_at DESC, started_at DESC NULLS LAST, seq DESC);
      CREATE INDEX runs_time ON {s}.runs (scheduled_at DESC, started_at DESC NULLS LAST, seq DESC);

      -- One row per fire: the claim. Its key is the lock: a second insert of the same
      -- (job, scheduled_at, source) does nothing.
      CREATE TABLE {s}.fires (
        job text NOT NULL,
        scheduled_at timestamptz NOT NULL,
        source text NOT NULL,
        state text NOT NULL CHECK (state IN ('running', 'retry', 'done', 'skipped', 'missed', 'lost')),
        run_id text NOT NULL UNIQUE,
        trigger_kind text NOT NULL,
        spec_hash text NOT NULL,
        -- overlap skip (or queue): at most one live run of the job in the whole group.
        exclusive boolean NOT NULL,
        owner text,
        ran_by text,
        fence bigint NOT NULL DEFAULT 0,
        lease_until timestamptz,
        attempt int NOT NULL DEFAULT 0,
        max_attempts int NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (job, scheduled_at, source)
      );
      CREATE UNIQUE INDEX fires_one_live ON {s}.fires (job) WHERE exclusive AND state IN ('running', 'retry');
      CREATE INDEX fires_live ON {s}.fires (job) WHERE state IN ('running', 'retry');
      CREATE INDEX fires_lease ON {s}.fires (lease_until) WHERE state = 'running';

      -- Which manifest a replica runs: the group's spec of a job is the one of the live
      -- replica with the newest manifest (generation = the manifest file's mtime).
      CREATE TABLE {s}.replicas (
        owner text PRIMARY KEY,
        generation bigint NOT NULL,
        seen_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE {s}.replica_specs (
        owner text NOT NULL REFERENCES {s}.replicas ON DELETE CASCADE,
        job text NOT NULL,
        spec_hash text NOT NULL,
        PRIMARY KEY (job, owner)
      );

      CREATE TABLE {s}.job_state (
        job text PRIMARY KEY,
        last_fire_at timestamptz,
        paused boolean NOT NULL DEFAULT false
      );
    `,
  },
  {
    version: 2,
    sql: `
      -- A run started by the end of another job's run (trigger 'after'): that run's id.
      ALTER TABLE {s}.runs ADD COLUMN upstream_run_id text;
    `,
  },
  {
    version: 3,
    sql: `
      -- The params a run was given, as kept (JSON, values from the environment hidden); NULL
      -- in runs recorded before. Nullable columns: replicas still on the previous version
      -- name their columns and write on.
      ALTER TABLE {s}.runs ADD COLUMN params text;
      -- A run started by another's end: its ctx.trigger (the upstream's record) as JSON, so
      -- a replica taking over its retry hands the handler the same trigger.
      ALTER TABLE {s}.fires ADD COLUMN cause text;
    `,
  },
  {
    version: 4,
    sql: `
      -- Partitioned scheduling: replicas with the same manifest (digest of their specs) split
      -- the jobs between them; a replica stopping gracefully says so, and fires its jobs
      -- until the others have seen it leave.
      ALTER TABLE {s}.replicas ADD COLUMN digest text NOT NULL DEFAULT '';
      ALTER TABLE {s}.replicas ADD COLUMN leaving boolean NOT NULL DEFAULT false;
    `,
  },
  {
    version: 5,
    sql: `
      -- The tries of a run that may be retried (JSON), oldest first; NULL for the others.
      ALTER TABLE {s}.runs ADD COLUMN attempts text;
    `,
  },
];

export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/**
 * Creates the schema and applies the steps it lacks, serialized across replicas by a
 * transaction-scoped advisory lock on the schema's name (two replicas starting together
 * must not both create the tables). Returns the versions applied.
 */
export async function migrate(pool: Pool, schema: string, logger: Logger): Promise<number[]> {
  const client = await pool.connect();
  // A connection dying mid-migration must reject the query, not crash the process.
  const onError = (err: Error) => logger.warn({ err: err.message }, "PostgreSQL connection lost while migrating");
  client.on("error", onError);
  const s = `"${schema}"`;
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`runlet:migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${s}.schema_migrations`);
    const from = rows[0]?.v ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new RunletError("STORE_OPEN", `schema ${schema} has run-history schema version ${from}, newer than this runlet knows (${SCHEMA_VERSION}): upgrade runlet, or give this one its own ?schema=`);
    }
    const steps = migrations.filter((m) => m.version > from);
    for (const step of steps) {
      await client.query(step.sql.replaceAll("{s}", s));
      await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [step.version]);
    }
    await client.query("COMMIT");
    if (steps.length > 0) logger.info({ schema, applied: steps.map((m) => m.version) }, `run history schema ${schema} migrated to version ${SCHEMA_VERSION}`);
    return steps.map((m) => m.version);
  } catch (err) {
    await client.query("ROLLBACK").catch((rollbackErr: unknown) => logger.warn({ err: rollbackErr }, "rollback after a failed migration failed"));
    throw err;
  } finally {
    client.off("error", onError);
    client.release();
  }
}
