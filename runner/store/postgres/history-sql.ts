import { table } from "./pg-config.js";

const NEWEST_FIRST = "ORDER BY scheduled_at DESC, started_at DESC NULLS LAST, seq DESC";

/** The run-history statements: the same records and order as the SQLite store. */
export function historyStatements(schema: string) {
  const runs = table(schema, "runs");
  const fires = table(schema, "fires");
  const jobState = table(schema, "job_state");
  const columns = "run_id, job, status, scheduled_at, started_at, finished_at, attempt, error, result, reason, trigger_kind, upstream_run_id, params, attempts, owner_pid, owner_host";
  return {
    /**
     * One batch of records as a JSON array. A record with a `fence` is written only while
     * its claim still holds that fence (and moves the claim to `done` when it ends); zero
     * rows for it means another replica took the run over: the record is dropped.
     * Rows are locked in key order (fires, then runs), as the lease renewal locks fires
     * (claim-sql.ts): no two of these statements wait on each other in a cycle.
     */
    writeRuns: `
      WITH r AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, job text, status text, scheduled_at timestamptz,
          started_at timestamptz, finished_at timestamptz, attempt int, error text, result text, reason text,
          trigger_kind text, upstream_run_id text, params text, attempts text, owner_pid int, owner_host text, fence bigint)
      ), locked AS MATERIALIZED (
        SELECT f.job, f.scheduled_at, f.source FROM ${fires} f JOIN r ON f.run_id = r.run_id AND f.fence = r.fence
        WHERE r.fence IS NOT NULL AND f.state = 'running'
        ORDER BY f.job, f.scheduled_at, f.source FOR UPDATE OF f
      ), held AS (
        UPDATE ${fires} f SET attempt = r.attempt,
          state = CASE WHEN r.status = 'running' THEN 'running' ELSE 'done' END,
          finished_at = CASE WHEN r.status = 'running' THEN NULL ELSE now() END,
          owner = CASE WHEN r.status = 'running' THEN f.owner END,
          lease_until = CASE WHEN r.status = 'running' THEN f.lease_until END
        FROM locked l, r WHERE f.job = l.job AND f.scheduled_at = l.scheduled_at AND f.source = l.source AND f.run_id = r.run_id
        RETURNING f.run_id
      )
      INSERT INTO ${runs} (${columns})
      SELECT ${columns} FROM r WHERE r.fence IS NULL OR r.run_id IN (SELECT run_id FROM held)
      ORDER BY run_id
      ON CONFLICT (run_id) DO UPDATE SET job = excluded.job, status = excluded.status, scheduled_at = excluded.scheduled_at,
        started_at = excluded.started_at, finished_at = excluded.finished_at, attempt = excluded.attempt, error = excluded.error,
        result = excluded.result, reason = excluded.reason, trigger_kind = excluded.trigger_kind,
        upstream_run_id = coalesce(excluded.upstream_run_id, ${runs}.upstream_run_id),
        params = coalesce(excluded.params, ${runs}.params),
        -- A replica that took the run over knows only its own tries: per try, the one whose
        -- start is known wins, the newer record first (it has the try's end).
        attempts = CASE WHEN excluded.attempts IS NULL OR ${runs}.attempts IS NULL THEN coalesce(excluded.attempts, ${runs}.attempts) ELSE (
          SELECT jsonb_agg(t.a ORDER BY t.n)::text FROM (
            SELECT DISTINCT ON ((x.a->>'attempt')::int) (x.a->>'attempt')::int AS n, x.a
            FROM (SELECT e.a, 0 AS o FROM jsonb_array_elements(excluded.attempts::jsonb) AS e(a)
                  UNION ALL SELECT s.a, 1 FROM jsonb_array_elements(${runs}.attempts::jsonb) AS s(a)) x
            ORDER BY (x.a->>'attempt')::int, (x.a->>'startedAt') IS NULL, x.o) t) END,
        owner_pid = excluded.owner_pid, owner_host = excluded.owner_host
      RETURNING run_id`,
    /**
     * A batch's job states, fire times and pauses in one statement, in job order: replicas
     * racing for every fire write the same jobs' rows, and in the order each queued them
     * their record transactions deadlocked; so did fire times written in job order with the
     * pauses after them, one statement each (b's fire time, then a's pause, against a then b).
     * Fire times only ever move forward, whichever replica writes last; `paused` absent (null)
     * keeps the row's. $2 holds the batch's pauses alone: each row looks its pause up there,
     * among a few, not among the thousands of fire times a fire queues (that was quadratic).
     */
    writeStates: `
      WITH x AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(job text, last_fire_at timestamptz, paused boolean)),
        p AS MATERIALIZED (SELECT * FROM jsonb_to_recordset($2::jsonb) AS p(job text, paused boolean))
      INSERT INTO ${jobState} AS s (job, last_fire_at, paused)
      SELECT job, last_fire_at, coalesce(paused, false) FROM x
      ORDER BY job
      ON CONFLICT (job) DO UPDATE SET last_fire_at = GREATEST(s.last_fire_at, excluded.last_fire_at),
        paused = coalesce((SELECT p.paused FROM p WHERE p.job = excluded.job), s.paused)`,
    getState: `SELECT last_fire_at, paused FROM ${jobState} WHERE job = $1`,
    history: `SELECT ${columns} FROM ${runs} ${NEWEST_FIRST} LIMIT $1`,
    jobHistory: `SELECT ${columns} FROM ${runs} WHERE job = $1 ${NEWEST_FIRST} LIMIT $2`,
    lastRuns: `SELECT DISTINCT ON (job) ${columns} FROM ${runs} ORDER BY job, scheduled_at DESC, started_at DESC NULLS LAST, seq DESC`,
    /** $1 an id, $2 the same escaped for LIKE: the exact run, else the newest run the prefix starts. */
    findRun: `SELECT ${columns} FROM ${runs} WHERE run_id = $1 OR run_id LIKE $2 || '%' ORDER BY run_id = $1 DESC, ${NEWEST_FIRST.slice("ORDER BY ".length)} LIMIT 1`,
    /** $1 jobs, $2 how many finished runs each keeps. */
    prune: `
      DELETE FROM ${runs} d USING (
        SELECT x.run_id FROM unnest($1::text[], $2::int[]) AS k(job, keep)
        CROSS JOIN LATERAL (SELECT run_id FROM ${runs} WHERE job = k.job AND status <> 'running' ${NEWEST_FIRST} OFFSET k.keep) x
      ) old WHERE d.run_id = old.run_id`,
  };
}
