import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { repoRoot } from "../support/temp-project.js";
// @ts-expect-error: a plain .mjs script without types
import { manifestReference, PAGE_FILE, SCHEMA_FILE } from "../../scripts/manifest-docs.mjs";

const script = join(repoRoot, "scripts", "manifest-docs.mjs");

describe("docs/manifest.md", () => {
  test("is what schemas/jobs.schema.json gives (else: run `npm run docs`)", () => {
    const expected = manifestReference(JSON.parse(readFileSync(SCHEMA_FILE, "utf8")));
    const current = readFileSync(PAGE_FILE, "utf8");
    expect(current === expected, "docs/manifest.md is out of date with schemas/jobs.schema.json: run `npm run docs` and commit the result").toBe(true);
    expect(spawnSync(process.execPath, [script, "--check"], { encoding: "utf8" }).status).toBe(0);
  });

  test("documents every field of the schema, at top level and in a job", () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
    const page: string = manifestReference(schema);
    for (const field of [...Object.keys(schema.properties), ...Object.keys(schema.$defs.job.properties)]) expect(page).toContain(`| \`${field}\``);
  });

  test("a field added to the schema shows up in the page, with its description", () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE, "utf8"));
    schema.$defs.job.properties.concurrency = { description: "Runs of this job in flight at once.", type: "integer", minimum: 1 };
    expect(manifestReference(schema)).toContain("| `concurrency` | integer ≥ 1 | Runs of this job in flight at once. |");
  });
});
