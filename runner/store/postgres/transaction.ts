import type pg from "pg";
import type { Logger } from "../../log/logger.js";

/**
 * Runs `work` in one transaction on a client of `checkout`, and hands the client back to
 * the pool exactly once, whatever fails: as it is once the transaction committed or was
 * rolled back (a lost lock race leaves the connection sound), or with the error when even
 * ROLLBACK failed, so the pool discards the broken connection instead of lending it again.
 */
export async function inTransaction<T>(checkout: () => Promise<pg.PoolClient>, logger: Logger, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await checkout();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
      logger.debug({ err: rollbackErr }, "rollback failed: the connection is dropped");
    }
    throw err;
  } finally {
    client.release(broken);
  }
}
