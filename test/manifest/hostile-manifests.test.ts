import { describe, expect, test } from "vitest";
import { ManifestError } from "../../runner/errors.js";
import { inspectManifest, loadManifest } from "../../runner/manifest/index.js";
import { NOT_BLOCK, readBlockYaml } from "../../runner/manifest/block-reader.js";
import { MAX_NESTING } from "../../runner/manifest/nesting.js";
import { runCli } from "../support/cli.js";
import { okHandler, tempProject } from "../support/temp-project.js";

function manyJobs(count: number): string {
  const lines = ["version: 1", "jobs:"];
  for (let i = 0; i < count; i++) lines.push(`  job-${i}:`, "    handler: jobs/ok.ts", `    schedule: "${i % 60} * * * * *"`);
  return `${lines.join("\n")}\n`;
}

function problemsOf(yaml: string): string[] {
  using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": yaml });
  try {
    loadManifest(project.path("jobs.yaml"), { displayPath: () => "jobs.yaml" });
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error("expected the manifest to be invalid");
}

/** Jobs as a big manifest holds them: a few shared handlers, crons and intervals, some params, timeouts and retries. */
function realisticJobs(count: number): string {
  const lines = ["version: 1", "defaults:", "  timezone: UTC", "jobs:"];
  for (let i = 0; i < count; i++) {
    lines.push(`  job-${i}:`, `    handler: jobs/h${i % 4}.ts`);
    lines.push(i % 3 === 0 ? `    schedule: { every: ${1 + (i % 5)}m }` : `    schedule: "${i % 60} ${i % 7} * * * *"`);
    if (i % 2 === 0) lines.push(`    params: { n: ${i}, label: "item ${i}", tags: [a, b] }`);
    if (i % 4 === 1) lines.push("    timeout: 30s", "    retries: { max: 2, backoff: exponential, delay: 1s }");
  }
  return `${lines.join("\n")}\n`;
}

describe("a manifest of 200,000 jobs", () => {
  // Passing every job as an argument of push() overflowed the stack at ~130,000 jobs.
  test("validates in a fresh `runlet validate` instead of overflowing the stack", () => {
    using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": manyJobs(200_000) });
    const { status, stderr } = runCli(["validate"], { cwd: project.dir });
    expect(stderr).not.toContain("RangeError");
    expect(stderr).toContain("200000 jobs, all valid.");
    expect(status).toBe(0);
  }, 120_000);

  test("of realistic jobs: read by the line reader, every job built as written, and `runlet validate` agrees", () => {
    const handlers = Object.fromEntries([0, 1, 2, 3].map((h) => [`jobs/h${h}.ts`, okHandler]));
    const text = realisticJobs(200_000);
    using project = tempProject({ ...handlers, "jobs.yaml": text });
    // The fast path a big manifest depends on (js-yaml took ~9 s of a million jobs).
    expect(readBlockYaml(text)).not.toBe(NOT_BLOCK);
    const { manifest, problems } = inspectManifest(project.path("jobs.yaml"), text);
    expect(problems).toEqual([]);
    expect(manifest.jobs).toHaveLength(200_000);
    const byName = new Map(manifest.jobs.map((job) => [job.name, job]));
    expect(byName.get("job-199998")).toMatchObject({ schedule: { kind: "every", everyMs: 4 * 60_000 }, params: { n: 199998, label: "item 199998", tags: ["a", "b"] }, timeoutMs: null });
    expect(byName.get("job-199997")).toMatchObject({ schedule: { kind: "cron", cron: "17 0 * * * *", timezone: "UTC" }, params: {}, timeoutMs: 30_000, retries: { max: 2, backoff: "exponential", delayMs: 1000 } });
    // Jobs that share a cron share its checked schedule, and read it as their own.
    expect(byName.get("job-1")!.schedule).toEqual({ kind: "cron", cron: "1 1 * * * *", timezone: "UTC", start: null, end: null });
    const { status, stderr } = runCli(["validate"], { cwd: project.dir });
    expect(stderr).not.toContain("RangeError");
    expect(stderr).toContain("200000 jobs, all valid.");
    expect(status).toBe(0);
  }, 120_000);
});

describe("the line reader and js-yaml build the same manifest", () => {
  test("the same jobs, in the same order, also when a job name reads as an array index", () => {
    const handlers = Object.fromEntries([0, 1, 2, 3].map((h) => [`jobs/h${h}.ts`, okHandler]));
    // "42" written last: Object.keys puts a key like an array index first.
    const text = `${realisticJobs(300)}  "42x":\n    handler: jobs/h1.ts\n    enabled: { production: true, "*": false }\n  "42":\n    handler: jobs/h0.ts\n    after: [job-7, "42x"]\n`;
    // A block scalar is outside what the line reader takes: js-yaml reads that text.
    const declined = text.replace("  timezone: UTC\n", "  timezone: UTC\n  description: |\n    text\n");
    expect(readBlockYaml(text)).not.toBe(NOT_BLOCK);
    expect(readBlockYaml(declined)).toBe(NOT_BLOCK);
    using project = tempProject(handlers);
    const fast = inspectManifest(project.path("jobs.yaml"), text, { env: "production" });
    const slow = inspectManifest(project.path("jobs.yaml"), declined, { env: "production" });
    expect(fast.problems).toEqual([]);
    expect(slow.problems).toEqual([]);
    expect(fast.manifest.jobs.map((j) => j.name).slice(0, 3)).toEqual(["42", "job-0", "job-1"]);
    expect(fast.manifest.jobs.at(-1)!.name).toBe("42x");
    expect(fast.manifest.environments).toEqual(["production"]);
    expect(fast.manifest.jobs).toEqual(slow.manifest.jobs.map((job) => ({ ...job, description: "" })));
  });
});

describe("deeply nested params", () => {
  const header = ["version: 1", "jobs:", "  deep:", "    handler: jobs/ok.ts"];

  test("3,000 levels of block maps followed by another key: one positioned problem, not a RangeError", () => {
    const lines = [...header, "    params:"];
    for (let i = 0; i < 3000; i++) lines.push(`${" ".repeat(6 + i)}a:`);
    lines[lines.length - 1] += " 1";
    lines.push("    timeout: 30s");
    expect(problemsOf(`${lines.join("\n")}\n`)).toMatchInlineSnapshot(`
      [
        "jobs.yaml:102:103: nesting deeper than 100 levels (maps and lists inside each other); flatten the value",
      ]
    `);
  });

  test("3,000 levels of flow maps and lists: one positioned problem", () => {
    const maps = `${"{a: ".repeat(3000)}1${"}".repeat(3000)}`;
    const lists = `${"[".repeat(3000)}1${"]".repeat(3000)}`;
    expect(problemsOf(`${[...header, `    params: ${maps}`, "    timeout: 30s"].join("\n")}\n`)).toEqual([`jobs.yaml:5:398: nesting deeper than ${MAX_NESTING} levels (maps and lists inside each other); flatten the value`]);
    expect(problemsOf(`${[...header, `    params: ${lists}`, "    timeout: 30s"].join("\n")}\n`)).toEqual([`jobs.yaml:5:110: nesting deeper than ${MAX_NESTING} levels (maps and lists inside each other); flatten the value`]);
  });

  test("the same limit holds for text the fast reader leaves to `yaml` (an anchor), shallow or deep", () => {
    for (const depth of [150, 3000]) {
      const lines = [...header, "    description: &d text", "    params:"];
      for (let i = 0; i < depth; i++) lines.push(`${" ".repeat(6 + i)}a:`);
      lines[lines.length - 1] += " 1";
      lines.push("    timeout: 30s");
      const problems = problemsOf(`${lines.join("\n")}\n`);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^jobs\.yaml:10[34]:10[34]: nesting deeper than 100 levels/);
    }
  });

  test("params just inside the limit are read whole", () => {
    // Root, jobs, the job and params are four levels; the innermost value is the 100th.
    const lines = [...header, "    params:"];
    for (let i = 0; i < MAX_NESTING - 5; i++) lines.push(`${" ".repeat(6 + i)}a:`);
    lines[lines.length - 1] += " 1";
    using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": `${lines.join("\n")}\n` });
    let params = loadManifest(project.path("jobs.yaml")).jobs[0]!.params as Record<string, unknown>;
    let depth = 0;
    for (; typeof params === "object"; depth++) params = params.a as Record<string, unknown>;
    expect(depth).toBe(MAX_NESTING - 5);
  });
});

describe("reporting many invalid jobs", () => {
  /** A job for each kind of problem, in turn: schema (key, enum, anyOf, nested), cron, handler. */
  const invalid = [
    (i: number) => ["    handler: jobs/ok.ts", "    bogus: 1"],
    (i: number) => ["    handler: jobs/ok.ts", "    overlap: sometimes"],
    (i: number) => ["    handler: jobs/ok.ts", "    timeout: soon"],
    (i: number) => ["    handler: jobs/ok.ts", "    retries: { max: -1, delay: later }"],
    (i: number) => ["    handler: jobs/ok.ts", '    schedule: "61 * * * *"'],
    (i: number) => [`    handler: jobs/missing-${i}.ts`],
  ];
  const manifestOf = (count: number) => {
    const lines = ["version: 1", "jobs:"];
    for (let i = 0; i < count; i++) lines.push(`  job-${i}:`, ...invalid[i % invalid.length]!(i));
    return `${lines.join("\n")}\n`;
  };

  // Each problem was checked against every problem before it: 16,000 invalid jobs took
  // 22.5 s, 8× the jobs ~60× the time. Linear work makes 8× the jobs cost ~8× the time;
  // the bound allows 4× that, and the best of three runs each, interleaved, keeps a busy
  // machine from deciding the outcome.
  test("takes time linear in the number of problems", () => {
    using project = tempProject({ "jobs/ok.ts": okHandler });
    const file = project.path("jobs.yaml");
    const small = manifestOf(1_000);
    const large = manifestOf(8_000);
    const best = { small: Infinity, large: Infinity };
    for (let round = 0; round < 3; round++) {
      for (const size of ["small", "large"] as const) {
        const started = performance.now();
        const { problems } = inspectManifest(file, size === "small" ? small : large);
        best[size] = Math.min(best[size], performance.now() - started);
        // One problem a job, two for the retries job (max and delay).
        const jobs = size === "small" ? 1_000 : 8_000;
        expect(problems).toHaveLength(jobs + Math.floor((jobs + 2) / invalid.length));
      }
    }
    expect(best.large / best.small).toBeLessThan(8 * 4);
  }, 120_000);
});
