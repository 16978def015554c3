import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../support/temp-project.js";

/**
 * The npm packages importing some entries of the built package loads, seen from a fresh
 * process: pino, pg, piscina, esbuild, ajv, yaml and node-schedule are CommonJS, so
 * require's cache lists each one loaded.
 */
function loadedBy(entries: string[]): { packages: string[] } {
  const script = `
    import { createRequire } from "node:module";
    for (const entry of ${JSON.stringify(entries)}) await import(entry);
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const packages = [...new Set(cache.map((k) => k.split("node_modules/")[1]?.split("/")[0]).filter(Boolean))].sort();
    console.log(JSON.stringify({ packages }));
  `;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: repoRoot, encoding: "utf8" });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe("the package's entries", () => {
  test("runlet/job loads none of the runner's packages", () => {
    expect(loadedBy(["runlet/job"]).packages).toEqual([]);
  });

  test("runlet, runlet/store and runlet/http do not load pg (only a postgres:// store does)", () => {
    const packages = loadedBy(["runlet", "runlet/store", "runlet/http"]).packages;
    expect(packages).toContain("pino");
    expect(packages.filter((p) => p === "pg" || p.startsWith("pg-"))).toEqual([]);
  });
});
