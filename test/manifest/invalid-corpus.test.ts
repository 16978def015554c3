import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { ManifestError } from "../../runner/errors.js";
import { loadManifest } from "../../runner/manifest/index.js";
import { repoRoot } from "../support/temp-project.js";

// The corpus of invalid manifests: one folder per case, each with an expect.txt listing
// every problem `runlet validate` must print (see test/fixtures/invalid/README.md).
const corpus = join(repoRoot, "test", "fixtures", "invalid");
const cli = join(repoRoot, "dist", "runner", "cli", "main.js");
const cases = readdirSync(corpus, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** A problem line: `FILE:LINE:COL: message`, as editors and terminals link to it. */
const PROBLEM_LINE = /:\d+:\d+: /;

interface Expectation {
  /** What the output line must contain, e.g. `jobs.yaml:5:16: `. */
  location: string;
  /** A lowercase fragment the message must contain. */
  fragment: string;
  source: string;
}

function readExpectations(dir: string): Expectation[] {
  return readFileSync(join(dir, "expect.txt"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^(@(\S+):)?(\d+):(\d+) (.+)$/.exec(line.trim());
      if (!match) throw new Error(`${dir}/expect.txt: cannot read ${JSON.stringify(line)}; expected "LINE:COL fragment" or "@FILE:LINE:COL fragment"`);
      const [, , file = "jobs.yaml", lineNo, col, fragment] = match;
      return { location: `${file}:${lineNo}:${col}: `, fragment: fragment!.toLowerCase(), source: line.trim() };
    });
}

function matches(line: string, want: Expectation): boolean {
  const at = line.indexOf(want.location);
  return at >= 0 && line.slice(at + want.location.length).toLowerCase().includes(want.fragment);
}

test("the corpus holds at least 35 cases", () => {
  expect(cases.length).toBeGreaterThanOrEqual(35);
});

describe.each(cases)("%s", (name) => {
  const dir = join(corpus, name);

  test("validate exits 2 and prints exactly the expected problems", () => {
    const expected = readExpectations(dir);
    expect(expected.length).toBeGreaterThan(0);
    const result = spawnSync(process.execPath, [cli, "validate", "--manifest", "jobs.yaml"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, NO_COLOR: "1" },
    });
    const output = `${result.stdout}${result.stderr}`;
    const problems = output.split("\n").filter((line) => PROBLEM_LINE.test(line));

    expect(result.error, output).toBeUndefined();
    expect(result.status, output).toBe(2);
    // Each expectation claims its own output line, so one printed problem cannot stand in
    // for two expected ones.
    const unclaimed = [...problems];
    for (const want of expected) {
      const index = unclaimed.findIndex((line) => matches(line, want));
      expect(index, `expected a problem "${want.source}" in:\n${output}`).toBeGreaterThanOrEqual(0);
      unclaimed.splice(index, 1);
    }
    expect(problems.length, `expected ${expected.length} problem line(s), got:\n${output}`).toBe(expected.length);
    expect(unclaimed, "problem lines no expectation accounts for").toEqual([]);
  });
});

// The CLI runs in a child process, so pollution there could not show here: load every
// case in-process too (parse and validate, no compile) and check the prototype afterwards.
test("loading every case in-process leaves Object.prototype untouched", () => {
  for (const name of cases) {
    try {
      loadManifest(join(corpus, name, "jobs.yaml"), { env: "production" });
    } catch (err) {
      if (!(err instanceof ManifestError)) throw err;
    }
  }
  expect(Object.keys(Object.prototype)).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});
