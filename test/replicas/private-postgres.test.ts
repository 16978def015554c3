import pg from "pg";
import { expect, test } from "vitest";
import { startPrivatePostgres } from "../support/private-postgres.js";

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

test("a private PostgreSQL server: cut refuses connections, restore brings back the same data, stop removes it", async () => {
  await using server = await startPrivatePostgres();
  expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  await query(server.url, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");

  server.cut();
  expect(server.up).toBe(false);
  await expect(query(server.url, "SELECT 1")).rejects.toMatchObject({ code: "ECONNREFUSED" });

  server.restore();
  expect(await query(server.url, "SELECT v FROM kept")).toEqual([{ v: 7 }]);
});
