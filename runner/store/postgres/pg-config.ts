import type { PoolConfig } from "pg";
import { RunletError } from "../../errors.js";
import { parseDuration } from "../../manifest/duration.js";

/** How a PostgreSQL store connects and how its replicas coordinate. */
export interface PostgresSettings {
  /** What the `pg` pool gets: the URL without runlet's own query parameters. */
  pool: PoolConfig;
  /** The schema runlet's tables live in (created on first use). */
  schema: string;
  /** How long a claimed run is held without a renewal before another replica may take it over. */
  leaseMs: number;
  /** How often each replica looks for expired leases and retries due (with jitter). */
  reapMs: number;
  /** How long before its time each scheduled fire is claimed, so its run starts at its time (`?claimAhead=`; 0: at its time). */
  claimAheadMs: number;
  /** Each job's schedule fired by its preferred replica (`?partition=on`, the default), or by every replica (`off`: they race for each claim). */
  partitioned: boolean;
  /** The URL as safe to print: user, host, port and database, never the password. */
  where: string;
}

export const postgresDefaults = {
  schema: "runlet",
  leaseMs: 30_000,
  reapMs: 5_000,
  claimAheadMs: 500,
  poolSize: 8,
  connectTimeoutMs: 5_000,
  applicationName: "runlet",
} as const;

/** runlet's own query parameters; the rest of the URL goes to `pg` untouched. */
const OWN_PARAMS = ["schema", "lease", "reap", "claimAhead", "partition"] as const;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads a `postgres://` URL. `?schema=NAME` (default `runlet`), `?lease=30s`, `?reap=5s`,
 * `?claimAhead=500ms` and `?partition=on|off` are runlet's; an option given in code wins
 * over the URL's.
 */
export function postgresSettings(url: string, options: { schema?: string; leaseMs?: number; reapMs?: number; claimAheadMs?: number; applicationName?: string; partition?: boolean } = {}): PostgresSettings {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new RunletError("STORE_OPEN", `the PostgreSQL store URL is not a URL (expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)`, { cause: err });
  }
  const own = Object.fromEntries(OWN_PARAMS.map((p) => [p, parsed.searchParams.get(p)]));
  for (const p of OWN_PARAMS) parsed.searchParams.delete(p);
  const schema = options.schema ?? own.schema ?? postgresDefaults.schema;
  if (!SCHEMA_NAME.test(schema)) {
    throw new RunletError("STORE_OPEN", `schema must be a lower-case SQL name like runlet or runlet_staging (got "${schema}")`);
  }
  const where = safeWhere(parsed);
  const leaseMs = options.leaseMs ?? durationParam("lease", own.lease, postgresDefaults.leaseMs);
  const reapMs = options.reapMs ?? durationParam("reap", own.reap, Math.min(postgresDefaults.reapMs, Math.max(250, leaseMs / 3)));
  const claimAheadMs = claimAheadParam(own.claimAhead, options.claimAheadMs, leaseMs);
  return {
    pool: {
      connectionString: parsed.toString(),
      max: postgresDefaults.poolSize,
      connectionTimeoutMillis: postgresDefaults.connectTimeoutMs,
      // Lets an operator (and the tests) find runlet's sessions in pg_stat_activity.
      application_name: options.applicationName ?? postgresDefaults.applicationName,
    },
    schema,
    leaseMs,
    reapMs,
    claimAheadMs,
    partitioned: options.partition ?? partitionParam(own.partition),
    where: `${where} (schema ${schema})`,
  };
}

function durationParam(name: string, value: string | null | undefined, fallback: number): number {
  if (value === null || value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) throw new RunletError("STORE_OPEN", `?${name}= must be a duration like 30s (got "${value}")`);
  return ms;
}

/**
 * 0 turns claiming ahead off. A claim's lease runs from when it is made and is renewed
 * every lease/3: a lead under that leaves a run most of its lease when it starts, so a
 * renewal missed while waiting for the fire's time does not lose the run.
 */
function claimAheadParam(value: string | null | undefined, given: number | undefined, leaseMs: number): number {
  const most = leaseMs / 3;
  if (given === undefined && (value === null || value === undefined)) return Math.min(postgresDefaults.claimAheadMs, Math.floor(most));
  const ms = given ?? (value!.trim() === "0" ? 0 : parseDuration(value));
  const [name, shown] = given === undefined ? ["?claimAhead=", value] : ["claimAheadMs", given];
  if (ms === null || !(ms >= 0)) throw new RunletError("STORE_OPEN", `${name} must be a duration like 500ms, or 0 to claim each fire at its time (got "${shown}")`);
  if (ms >= most) throw new RunletError("STORE_OPEN", `${name} must be shorter than a third of the lease (${Math.floor(most)}ms with a ${leaseMs}ms lease), when the claim's first renewal comes (got "${shown}")`);
  return ms;
}

/**
 * Partitioned scheduling is the default: one claim per fire instead of one per replica.
 * `off` keeps the race, for jobs that must fire on time even while a dead replica's jobs
 * wait to be taken over (docs/replicas.md).
 */
function partitionParam(value: string | null | undefined): boolean {
  if (value === null || value === undefined || value === "on") return true;
  if (value === "off") return false;
  throw new RunletError("STORE_OPEN", `?partition= must be on or off (got "${value}")`);
}

function safeWhere(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : "";
  return `postgres://${user}${url.host}${url.pathname}`;
}

/** A schema-qualified, quoted table name (the schema was checked against SCHEMA_NAME). */
export function table(schema: string, name: string): string {
  return `"${schema}".${name}`;
}
