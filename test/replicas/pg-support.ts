import { randomBytes } from "node:crypto";
import pg from "pg";
import { startCli, type CliProcess } from "../support/cli.js";
import { waitFor } from "../support/poll.js";
import type { PrivatePostgres } from "../support/private-postgres.js";

/**
 * The PostgreSQL server the replica tests use: $RUNLET_TEST_PG_URL, by default the local
 * one (`postgres://postgres@127.0.0.1:5432/postgres`, trust auth; see .ci/run). Each suite
 * creates a database of its own there and drops it after; nothing else on the server is
 * touched. Tests that cut the database use a private server (test/support/private-postgres.ts).
 */
export const PG_SERVER = process.env.RUNLET_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432/postgres";

/** A database of its own per suite (schema of the same name), dropped after; `url` names it with a short lease for quick takeovers. */
export interface TestSchema {
  name: string;
  /** The app name the suite's runners connect with, so a test can find exactly their sessions. */
  app: string;
  url(params?: Record<string, string>): string;
  query<T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** Creates the database `runlet_test_<random>` on `server` (default {@link PG_SERVER}). */
export async function testSchema(server = PG_SERVER): Promise<TestSchema> {
  const name = `runlet_test_${randomBytes(4).toString("hex")}`;
  const app = `runlet-${name}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const base = new URL(server);
  base.pathname = `/${name}`;
  base.search = "";
  const pool = new pg.Pool({ connectionString: base.toString(), max: 2 });
  pool.on("error", () => undefined /* an outage test cuts the server; the next query reconnects */);
  return {
    name,
    app,
    url: (params = {}) => `${base}?${new URLSearchParams({ schema: name, application_name: app, lease: "2s", reap: "500ms", ...params })}`,
    async query(sql, params) {
      return (await pool.query(sql, params)).rows;
    },
    async drop() {
      await pool.end();
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * A database of its own on `server`, a private one a test may cut: on dispose the server is
 * brought back if the test left it cut, and the database dropped.
 */
export async function databaseOn(server: PrivatePostgres): Promise<TestSchema & AsyncDisposable> {
  const db = await testSchema(server.url);
  return Object.assign(db, {
    async [Symbol.asyncDispose]() {
      if (!server.up) server.restore();
      await db.drop();
    },
  });
}

/** `replicas`, each stopped ({@link stopReplica}) when the test leaves the scope, however it leaves; replicas pushed later are stopped too. */
export function stoppedAtEnd(replicas: CliProcess[]): CliProcess[] & AsyncDisposable {
  return Object.assign(replicas, {
    async [Symbol.asyncDispose]() {
      await Promise.all(replicas.map(stopReplica));
    },
  });
}

/** The replica group row (`owner`, host:pid:random) of `cli`'s process. */
function ownsRow(owner: string, cli: CliProcess): boolean {
  return owner.split(":").at(-2) === String(cli.child.pid);
}

/**
 * Resolves once each of `replicas` has tended its group `tends` times from now, as its
 * heartbeats in `schema`.replicas show (a tend beats, then reads the group). After one tend
 * each has read the group as it is now; after three (a tend comes every reap ±20 %), the
 * overlap a change opens (one reap) is over as well: the partition is steady.
 */
export async function tended(db: TestSchema, replicas: CliProcess[], options: { schema?: string; tends?: number; timeoutMs?: number } = {}): Promise<void> {
  const { schema = db.name, tends = 3, timeoutMs = 30_000 } = options;
  const [{ now }] = (await db.query<{ now: Date }>("SELECT now()")) as [{ now: Date }];
  const beats = new Map<CliProcess, Set<number>>(replicas.map((cli) => [cli, new Set()]));
  await waitFor(
    async () => {
      const rows = await db.query<{ owner: string; seen_at: Date }>(`SELECT owner, seen_at FROM "${schema}".replicas WHERE seen_at > $1`, [now]);
      for (const row of rows) for (const [cli, seen] of beats) if (ownsRow(row.owner, cli)) seen.add(row.seen_at.getTime());
      return [...beats.values()].every((seen) => seen.size >= tends);
    },
    timeoutMs,
    `${tends} tends of each of the replicas (pids ${replicas.map((r) => r.child.pid).join(", ")})`,
  );
}

/** `runlet start` on `store` in `dir`, resolved once its runner tells it started (its `started` event, logged as `event`). */
export async function startReplica(dir: string, store: string, extra: string[] = []): Promise<CliProcess> {
  const cli = startCli(["start", "--store", store, "--grace", "1s", ...extra], { cwd: dir });
  await cli.waitForLog((e) => e.event === "started", 20_000);
  return cli;
}

/** SIGTERM, then the exit code (SIGKILL after 10 s); a replica a test paused (SIGSTOP) is woken first. */
export async function stopReplica(cli: CliProcess): Promise<number | null> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.child.exitCode;
  cli.child.kill("SIGCONT");
  cli.child.kill("SIGTERM");
  const timer = setTimeout(() => cli.child.kill("SIGKILL"), 10_000);
  const code = await cli.exited;
  clearTimeout(timer);
  return code;
}

export function logEntries(cli: CliProcess): Array<Record<string, unknown>> {
  return cli.lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
