import { table } from "./pg-config.js";

/**
 * The statements of replica coordination, schema-qualified. Every time comparison uses
 * the database's `now()`: replicas' clocks only decide when a fire is due, never who runs it.
 */
export function claimStatements(schema: string) {
  const fires = table(schema, "fires");
  const runs = table(schema, "runs");
  const replicas = table(schema, "replicas");
  const specs = table(schema, "replica_specs");
  const ms = (p: string) => `make_interval(secs => ${p}::bigint / 1000.0)`;
  return {
    /**
     * The claim of a batch of fires (every fire a replica's scheduler came to in one turn),
     * one row per request in the arrays: $1 jobs, $2 scheduled_at, $3 sources, $4 spec
     * hashes (null: no check), $5 exclusive, $6 deadline ms (null: none), $7 run ids, $8 max
     * attempts, $9 triggers; then $10 owner, $11 lease ms, $12 owner pid, $13 owner host,
     * $14 liveness window ms; then $15 the spec hashes kept where $4 is null (a retry is
     * taken over by a replica of that spec), $16 the causes (`ctx.trigger` JSON, or null),
     * $17 whether each is claimed ahead of its time.
     * Each fire's state is decided inside the insert: `missed` past the deadline, `skipped`
     * while a live run holds an exclusive job anywhere in the group (`later`, no row, when
     * claimed ahead: that run may end before the fire's time), else `running` with
     * owner, fence 1 and a lease. ON CONFLICT DO NOTHING on the fire's key: no row back, no
     * run. A concurrent exclusive claim of another fire of the job conflicts on
     * `fires_one_live`. Rows are inserted in key order, the same in every replica, so two
     * replicas claiming the same fires wait on each other's keys in one order and never
     * deadlock. One row back per request, by its ordinal `i`.
     */
    claim: `
      WITH req0 AS (
        SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::boolean[], $6::bigint[], $7::text[], $8::int[], $9::text[], $15::text[], $16::text[], $17::boolean[])
          WITH ORDINALITY AS u(job, scheduled_at, source, spec_hash, exclusive, deadline_ms, run_id, max_attempts, trigger_kind, held_spec, cause, ahead, i)
      ), req AS (   -- the same request twice: only its first gets the row back (the second is looked up: taken)
        SELECT r.*, row_number() OVER (PARTITION BY r.run_id ORDER BY r.i) AS nth FROM req0 r
      ), current_spec AS (
        SELECT DISTINCT ON (rs.job) rs.job, rs.spec_hash FROM ${specs} rs JOIN ${replicas} r USING (owner)
        -- The claimer's own manifest always counts: after an outage every replica's heartbeat
        -- is old, and without it no spec would be current until the next heartbeat. A leaving
        -- replica's counts only for itself: the others fire its jobs from its handoff on.
        WHERE rs.job = ANY($1::text[]) AND ((r.seen_at > now() - ${ms("$14")} AND NOT r.leaving) OR r.owner = $10::text)
        -- On a tie of generations the lowest digest wins, as partitioned scheduling decides
        -- (coordinate/membership.ts): the replicas it gives the job to must hold its current spec.
        ORDER BY rs.job, r.generation DESC, r.digest COLLATE "C", rs.spec_hash
      ), decided AS (
        SELECT q.*, CASE
          WHEN q.deadline_ms IS NOT NULL AND now() > q.scheduled_at + ${ms("q.deadline_ms")} THEN 'missed'
          WHEN q.exclusive AND EXISTS (SELECT 1 FROM ${fires} f WHERE f.job = q.job AND f.state IN ('running', 'retry')) THEN CASE WHEN q.ahead THEN 'later' ELSE 'skipped' END
          ELSE 'running' END AS state
        FROM req q LEFT JOIN current_spec cs ON cs.job = q.job
        WHERE q.spec_hash IS NULL OR q.spec_hash = cs.spec_hash
      ), ins AS (
        INSERT INTO ${fires} AS f (job, scheduled_at, source, state, run_id, trigger_kind, spec_hash, exclusive,
                                   owner, ran_by, fence, lease_until, attempt, max_attempts, finished_at, cause)
        SELECT d.job, d.scheduled_at, d.source, d.state, d.run_id, d.trigger_kind, coalesce(d.spec_hash, d.held_spec, ''), d.exclusive,
               CASE WHEN d.state = 'running' THEN $10::text END, CASE WHEN d.state = 'running' THEN $10::text END,
               1, CASE WHEN d.state = 'running' THEN now() + ${ms("$11")} END,
               CASE WHEN d.state = 'running' THEN 1 ELSE 0 END, d.max_attempts,
               CASE WHEN d.state = 'running' THEN NULL ELSE now() END, d.cause
        FROM decided d
        WHERE d.state <> 'later'
        ORDER BY d.job, d.scheduled_at, d.source, d.i
        ON CONFLICT DO NOTHING
        RETURNING f.run_id, f.job, f.scheduled_at, f.state, f.fence, f.trigger_kind
      ), hist AS (
        INSERT INTO ${runs} (run_id, job, status, scheduled_at, started_at, attempt, reason, trigger_kind, owner_pid, owner_host)
        -- A fire claimed before its time has not started: its start record says when it did.
        SELECT i.run_id, i.job, CASE WHEN i.state = 'running' THEN 'running' ELSE 'skipped' END, i.scheduled_at,
               CASE WHEN i.state = 'running' AND i.scheduled_at <= now() THEN now() END, CASE WHEN i.state = 'running' THEN 1 ELSE 0 END,
               CASE i.state WHEN 'missed' THEN 'late' WHEN 'skipped' THEN 'overlap' END, i.trigger_kind,
               CASE WHEN i.state = 'running' THEN $12::int END, CASE WHEN i.state = 'running' THEN $13::text END
        FROM ins i
        ON CONFLICT (run_id) DO NOTHING
      )
      SELECT q.i, coalesce(ins.state, CASE WHEN d.state = 'later' THEN 'later' END) AS state, ins.fence, d.i IS NOT NULL AS spec_ok
      FROM req q LEFT JOIN decided d ON d.i = q.i LEFT JOIN ins ON ins.run_id = q.run_id AND q.nth = 1`,

    /** Of fires whose claim got no row back ($1 jobs, $2 scheduled_at, $3 sources), the ordinals whose row exists: taken. */
    firesExist: `
      SELECT u.i FROM unnest($1::text[], $2::timestamptz[], $3::text[]) WITH ORDINALITY AS u(job, scheduled_at, source, i)
      WHERE EXISTS (SELECT 1 FROM ${fires} f WHERE f.job = u.job AND f.scheduled_at = u.scheduled_at AND f.source = u.source)`,

    /**
     * $1 run ids, $2 fences, $3 lease ms. Rows back: the leases still held. The rows are
     * locked in key order first, as the record write locks them (history-sql.ts): in the
     * order of the arrays, a renewal and the write of the same runs' ends deadlocked, and
     * PostgreSQL takes `deadlock_timeout` (1 s) to break that, while the next second's
     * claims saw the ended runs still live and skipped their fires (overlap: skip).
     */
    renew: `
      WITH held AS MATERIALIZED (
        SELECT f.job, f.scheduled_at, f.source FROM ${fires} f
        JOIN unnest($1::text[], $2::bigint[]) AS u(run_id, fence) ON f.run_id = u.run_id AND f.fence = u.fence
        WHERE f.state = 'running'
        ORDER BY f.job, f.scheduled_at, f.source FOR UPDATE OF f
      )
      UPDATE ${fires} f SET lease_until = now() + ${ms("$3")}
      FROM held h WHERE f.job = h.job AND f.scheduled_at = h.scheduled_at AND f.source = h.source
      RETURNING f.run_id`,

    /** $1 run id, $2 fence, $3 attempt, $4 lease ms: the owner starts its next attempt only while its fence holds (row back). */
    beginAttempt: `
      UPDATE ${fires} SET attempt = $3, lease_until = now() + ${ms("$4")}
      WHERE run_id = $1 AND fence = $2 AND state = 'running'`,

    /**
     * Expired leases. A `running` row → `retry` (attempts left; its lease_until becomes the
     * deadline for a replica to take it) or `lost`; a `retry` nobody took in time → `lost`.
     * The fence moves on, so the old owner's renewals and completion find nothing.
     */
    reap: `
      WITH expired AS (
        SELECT job, scheduled_at, source, owner, state AS was FROM ${fires}
        WHERE state IN ('running', 'retry') AND lease_until < now()
        ORDER BY lease_until LIMIT 100 FOR UPDATE SKIP LOCKED
      ), upd AS (
        UPDATE ${fires} f SET
          state = CASE WHEN e.was = 'running' AND f.attempt < f.max_attempts THEN 'retry' ELSE 'lost' END,
          fence = f.fence + 1, owner = NULL,
          lease_until = CASE WHEN e.was = 'running' AND f.attempt < f.max_attempts THEN now() + ${ms("$1")} END,
          finished_at = CASE WHEN e.was = 'running' AND f.attempt < f.max_attempts THEN NULL ELSE now() END
        FROM expired e WHERE f.job = e.job AND f.scheduled_at = e.scheduled_at AND f.source = e.source
        RETURNING f.run_id, f.job, f.scheduled_at, coalesce(e.owner, f.ran_by) AS owner, f.attempt, f.state, e.was
      ), hist AS (
        UPDATE ${runs} r SET status = 'lost', finished_at = now(), owner_pid = NULL, owner_host = NULL,
          error = json_build_object('message', CASE WHEN u.was = 'retry'
            THEN 'no replica running this job''s spec took its retry in time; the run''s outcome is unknown'
            -- No start recorded: claimed ahead of its time, or its start record never landed.
            WHEN r.started_at IS NULL
            THEN 'the replica that claimed this run (' || coalesce(u.owner, '?') || ') stopped renewing its lease before its start was recorded; whether it started is unknown'
              || CASE WHEN u.state = 'retry' THEN '; it will be retried' ELSE '' END
            ELSE 'the replica running this run (' || coalesce(u.owner, '?') || ') stopped renewing its lease; the run''s outcome is unknown'
              || CASE WHEN u.state = 'retry' THEN '; it will be retried' ELSE '' END END)::text
        FROM upd u WHERE r.run_id = u.run_id
      )
      SELECT run_id, job, scheduled_at, owner, attempt, state FROM upd`,

    /** $1 jobs, $2 their spec hashes, $3 owner, $4 lease ms, $5 limit, $6 pid, $7 host. */
    acquire: `
      WITH due AS (
        SELECT f.job, f.scheduled_at, f.source FROM ${fires} f
        JOIN unnest($1::text[], $2::text[]) AS m(job, spec_hash) ON m.job = f.job AND m.spec_hash = f.spec_hash
        WHERE f.state = 'retry'
        ORDER BY f.scheduled_at LIMIT $5 FOR UPDATE OF f SKIP LOCKED
      ), upd AS (
        UPDATE ${fires} f SET state = 'running', owner = $3::text, ran_by = $3::text, fence = f.fence + 1,
          attempt = f.attempt + 1, lease_until = now() + ${ms("$4")}
        FROM due d WHERE f.job = d.job AND f.scheduled_at = d.scheduled_at AND f.source = d.source
        RETURNING f.run_id, f.job, f.scheduled_at, f.trigger_kind, f.fence, f.attempt, f.cause
      ), hist AS (
        UPDATE ${runs} r SET status = 'running', attempt = u.attempt, started_at = now(), finished_at = NULL,
          error = NULL, owner_pid = $6::int, owner_host = $7::text
        FROM upd u WHERE r.run_id = u.run_id
      )
      SELECT * FROM upd`,

    /** $1 owner, $2 generation, $3 digest; then $1 owner, $2 jobs, $3 hashes: this replica's manifest. */
    publish: [
      `INSERT INTO ${replicas} (owner, generation, digest, seen_at) VALUES ($1, $2, $3, now())
       ON CONFLICT (owner) DO UPDATE SET generation = excluded.generation, digest = excluded.digest, leaving = false, seen_at = now()`,
      `DELETE FROM ${specs} WHERE owner = $1`,
      `INSERT INTO ${specs} (owner, job, spec_hash) SELECT $1, u.job, u.hash FROM unnest($2::text[], $3::text[]) AS u(job, hash)`,
    ],
    heartbeat: `UPDATE ${replicas} SET seen_at = now() WHERE owner = $1`,
    leave: `DELETE FROM ${replicas} WHERE owner = $1`,
    /** A graceful stop begins: the others take this replica's jobs over, from the end of its handoff. */
    markLeaving: `UPDATE ${replicas} SET leaving = true, seen_at = now() WHERE owner = $1`,
    /** Every replica's row, with its heartbeat's age by the database's clock (partitioned scheduling reads the members from it). */
    members: `SELECT owner, generation, digest, leaving, (extract(epoch FROM now() - seen_at) * 1000)::float8 AS age_ms FROM ${replicas}`,
    /** Replicas silent for an hour, and finished fires older than a day (their keys can no longer be claimed: catch-up starts after the newest fire). */
    tidy: [
      `DELETE FROM ${replicas} WHERE seen_at < now() - interval '1 hour'`,
      `DELETE FROM ${fires} WHERE state IN ('done', 'skipped', 'missed', 'lost') AND scheduled_at < now() - interval '1 day'`,
    ],
  };
}
