import { symlinkSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { JOB_FIELDS, loadManifest, manifestSchema, parseManifest } from "../../runner/manifest/index.js";
import { ManifestError } from "../../runner/errors.js";
import { specHashOf } from "../../runner/manifest/spec-hash.js";
import { okHandler, tempProject } from "../support/temp-project.js";

function problemsOf(yaml: string, files: Record<string, string> = { "jobs/ok.ts": okHandler }): string[] {
  using project = tempProject({ ...files, "jobs.yaml": yaml });
  try {
    loadManifest(project.path("jobs.yaml"), { env: "production", displayPath: () => "jobs.yaml" });
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error("expected the manifest to be invalid");
}

describe("a valid manifest", () => {
  test("is normalized: defaults applied, durations in ms, one schedule form", () => {
    using project = tempProject({
      "jobs/ok.ts": okHandler,
      "jobs.yaml": `version: 1
defaults:
  timezone: Europe/Berlin
  timeout: 10m
  retries: 2
jobs:
  report:
    handler: jobs/ok.ts
    schedule: "0 30 2 * * *"
    mode: thread
    enabled: [production]
    params: { maxAgeMinutes: 30 }
    timeout: 30s
    overlap: queue
    retries: { max: 3, backoff: exponential, delay: 500ms, maxDelay: 1m }
    memory: 64
    lateness: 2s
    catchUp: latest
    startingDeadline: 1h
    history: { keep: 5 }
  tick:
    handler: ./jobs/../jobs/ok.ts
    schedule: { every: 90s }
    enabled: { staging: true, "*": false }
  manual:
    handler: jobs/ok.ts
  rule:
    handler: jobs/ok.ts
    schedule: { hour: [0, 12], minute: { start: 0, end: 30, step: 15 }, timezone: America/New_York }
`,
    });
    const manifest = loadManifest(project.path("jobs.yaml"), { env: "production" });
    const [report, tick, manual, rule] = manifest.jobs;
    expect(report).toMatchObject({
      name: "report",
      handler: "jobs/ok.ts",
      handlerPath: project.path("jobs/ok.ts"),
      schedule: { kind: "cron", cron: "0 30 2 * * *", timezone: "Europe/Berlin", start: null, end: null },
      scheduleSource: "0 30 2 * * *",
      mode: "thread",
      enabled: true,
      params: { maxAgeMinutes: 30 },
      timeoutMs: 30_000,
      overlap: "queue",
      retries: { max: 3, backoff: "exponential", delayMs: 500, maxDelayMs: 60_000 },
      timezone: "Europe/Berlin",
      memoryMb: 64,
      latenessMs: 2000,
      catchUp: "latest",
      startingDeadlineMs: 3_600_000,
      historyKeep: 5,
    });
    expect(tick).toMatchObject({ schedule: { kind: "every", everyMs: 90_000 }, enabled: false, mode: "inline", timeoutMs: 600_000, retries: { max: 2, backoff: "fixed", delayMs: 1000 }, overlap: "skip", latenessMs: 1000, historyKeep: 100 });
    expect(manual).toMatchObject({ schedule: null, params: {}, catchUp: "none", startingDeadlineMs: null });
    expect(rule!.schedule).toEqual({ kind: "rule", rule: { hour: [0, 12], minute: { start: 0, end: 30, step: 15 } }, timezone: "America/New_York" });
    expect(manifest.env).toBe("production");
    expect(specHashOf(report!)).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(manifest.jobs.map((j) => specHashOf(j))).size).toBe(4);
  });

  test("enabled follows the environment", () => {
    const yaml = `version: 1
jobs:
  a: { handler: jobs/ok.ts, enabled: [staging, production] }
  b: { handler: jobs/ok.ts, enabled: { production: false, "*": true } }
  c: { handler: jobs/ok.ts, enabled: false }
  d: { handler: jobs/ok.ts }
`;
    using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": yaml });
    const enabled = (env: string) => loadManifest(project.path("jobs.yaml"), { env }).jobs.map((j) => j.enabled);
    expect(enabled("production")).toEqual([true, false, false, true]);
    expect(enabled("development")).toEqual([false, true, false, true]);
  });

  test("the spec hash changes with what decides a run, not with the description", () => {
    using project = tempProject({ "jobs/ok.ts": okHandler });
    const hash = (job: string) => specHashOf(parseManifest(project.path("jobs.yaml"), `version: 1\njobs:\n  a: { handler: jobs/ok.ts, ${job} }\n`, { env: "x" }).jobs[0]!);
    expect(hash("description: one")).toBe(hash("description: two"));
    expect(hash("params: 1")).not.toBe(hash("params: 2"));
    expect(hash('schedule: "* * * * *"')).not.toBe(hash('schedule: "*/2 * * * *"'));
  });
});

describe("problems", () => {
  test("all of them are reported at once, each at its line and column", () => {
    expect(
      problemsOf(`version: 1
defaults:
  handler: x.ts
jobs:
  report:
    handler: jobs/ok.ts
    schedule: "*/0 61 * * *"
    overlap: sometimes
    retries: { max: -1 }
    foo: 1
  b:
    handler: jobs/missing.ts
    schedule: { every: 0s }
    timeout: 5 minutes
    enabled: maybe
  Bad Name:
    handler: jobs/ok.ts
  c:
    schedule: { hour: 24, minute: {start: 5, end: 1} }
  d:
    handler: jobs/ok.ts
    schedule: { cron: "0 0 * * *", timezone: Mars/Olympus, every: 5s }
  e:
    handler: jobs/ok.py
    schedule: { at: "2026-02-30T00:00:00Z" }
`),
    ).toMatchInlineSnapshot(`
      [
        "jobs.yaml:3:3: defaults.handler is not a known key; defaults may set any job field except handler, schedule and after; supported keys are: description, mode, enabled, params, timeout, overlap, retries, timezone, memory, lateness, catchUp, startingDeadline, history, concurrency, logs",
        "jobs.yaml:7:16: jobs.report.schedule: cron minute field "*/0": step must be at least 1 (got 0)",
        "jobs.yaml:7:20: jobs.report.schedule: cron hour field "61": 61 is out of range (expected 0-23)",
        "jobs.yaml:8:14: jobs.report.overlap must be one of skip, queue, allow, replace (got "sometimes")",
        "jobs.yaml:9:21: jobs.report.retries.max must be at least 0 (got -1)",
        "jobs.yaml:10:5: jobs.report.foo is not a known key; supported keys are: handler, schedule, after, description, mode, enabled, params, timeout, overlap, concurrency, retries, timezone, memory, lateness, catchUp, startingDeadline, history, logs",
        "jobs.yaml:12:14: jobs.b.handler file "jobs/missing.ts" does not exist (relative to the manifest's folder)",
        "jobs.yaml:13:24: jobs.b.schedule.every must be a duration like 500ms, 30s, 5m, 1h, 1d or a number of milliseconds, greater than 0 (got "0s")",
        "jobs.yaml:14:14: jobs.b.timeout must be a duration like 500ms, 30s, 5m, 1h, 1d or a number of milliseconds (got "5 minutes")",
        "jobs.yaml:15:14: jobs.b.enabled must be true, false, a list of environment names, or a map { <env>: true|false, "*": true|false } (got "maybe")",
        "jobs.yaml:16:3: jobs.Bad Name is not a valid job name: use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit (got "Bad Name")",
        "jobs.yaml:18:3: jobs.c is missing required key 'handler'",
        "jobs.yaml:19:23: jobs.c.schedule.hour must be a whole number 0-23 (got 24)",
        "jobs.yaml:19:35: jobs.c.schedule.minute range starts after it ends (start 5, end 1)",
        "jobs.yaml:22:15: jobs.d.schedule must have exactly one of cron, every, at, or recurrence-rule fields (second, minute, hour, date, month, year, dayOfWeek) (got cron and every)",
        "jobs.yaml:24:14: jobs.e.handler must be a .ts, .mts, .js, .mjs or .cjs file (got "jobs/ok.py")",
        "jobs.yaml:25:21: jobs.e.schedule.at must be an ISO 8601 date-time with a zone, like 2027-01-01T09:00:00Z (got "2026-02-30T00:00:00Z")",
      ]
    `);
  });

  test("YAML syntax errors and duplicate keys point at the text", () => {
    expect(problemsOf("version: 1\njobs:\n  a:\n\thandler: jobs/ok.ts\n")).toMatchInlineSnapshot(`
      [
        "jobs.yaml:4:1: Tabs are not allowed as indentation",
      ]
    `);
    expect(problemsOf("version: 1\njobs:\n  a:\n    handler: jobs/ok.ts\n  a:\n    handler: jobs/ok.ts\n")).toMatchInlineSnapshot(`
      [
        "jobs.yaml:5:3: duplicate key "a": keys of a map (and job names) must be unique",
      ]
    `);
  });

  test("duplicate keys are found in maps of any size and depth, every repeat at its own place", () => {
    // 20 jobs: past the size where the check switches from comparing keys to a Set.
    const jobs = Array.from({ length: 20 }, (_, i) => `  j${i}: { handler: jobs/ok.ts }`);
    const yaml = ["version: 1", "jobs:", ...jobs, "  j3: { handler: jobs/ok.ts }", "  j4:", "    handler: jobs/ok.ts", "    params: { list: [{ a: 1, b: 2, a: 3, a: 4 }] }", ""].join("\n");
    expect(problemsOf(yaml)).toMatchInlineSnapshot(`
      [
        "jobs.yaml:23:3: duplicate key "j3": keys of a map (and job names) must be unique",
        "jobs.yaml:24:3: duplicate key "j4": keys of a map (and job names) must be unique",
        "jobs.yaml:26:36: duplicate key "a": keys of a map (and job names) must be unique",
        "jobs.yaml:26:42: duplicate key "a": keys of a map (and job names) must be unique",
      ]
    `);
  });

  test("a schedule that never fires is refused at its line: a cron, a rule, a window", () => {
    const yaml = (schedules: string[]) => ["version: 1", "jobs:", ...schedules.map((c, i) => `  j${i}: { handler: jobs/ok.ts, schedule: ${c} }`), ""].join("\n");
    expect(
      problemsOf(
        yaml([
          '"0 0 31 4,6 *"',
          '"0 0 30 2 *"',
          "{ minute: { start: 5, end: 5, step: 2 } }",
          "{ month: [3, 5], date: 31 }",
          "{ year: 2020, minute: 0 }",
          '{ cron: "0 0 * * *", start: 2020-01-01T00:00:00Z, end: 2020-02-01T00:00:00Z }',
          '{ cron: "0 0 * 2 *", start: 2099-03-01T00:00:00Z, end: 2099-12-01T00:00:00Z }',
        ]),
      ),
    ).toMatchInlineSnapshot(`
      [
        "jobs.yaml:3:40: jobs.j0.schedule never fires: no fire in the next 30 years",
        "jobs.yaml:4:41: jobs.j1.schedule: cron "0 0 30 2 *" is not valid: Invalid explicit day of month definition",
        "jobs.yaml:5:40: jobs.j2.schedule never fires: no fire in the next 30 years",
        "jobs.yaml:6:40: jobs.j3.schedule never fires: no fire in the next 30 years",
        "jobs.yaml:7:40: jobs.j4.schedule never fires: no fire in the next 30 years",
        "jobs.yaml:8:40: jobs.j5.schedule has no fire left: its window ended at 2020-02-01T00:00:00.000Z",
        "jobs.yaml:9:40: jobs.j6.schedule never fires: the cron has no fire between 2099-03-01T00:00:00.000Z and 2099-12-01T00:00:00.000Z",
      ]
    `);
    // A cron that fires only on February 29 fires within the reach: accepted.
    using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": yaml(['"0 0 29 2 *"', '"0 0 31 * *"', "{ month: 1, date: 29, dayOfWeek: 1, hour: 0, minute: 0 }"]) });
    expect(loadManifest(project.path("jobs.yaml"), { env: "production" }).jobs).toHaveLength(3);
  });

  test("cron forms the engine cannot read are refused at their field: a bare L as weekday, W, a step from 7", () => {
    const yaml = (crons: string[]) => ["version: 1", "jobs:", ...crons.map((c, i) => `  j${i}: { handler: jobs/ok.ts, schedule: "${c}" }`), ""].join("\n");
    expect(problemsOf(yaml(["0 0 * * L", "0 0 15W * *", "0 9 * * 7/2"]))).toMatchInlineSnapshot(`
      [
        "jobs.yaml:3:49: jobs.j0.schedule: cron day of week field "L": a bare "L" is not a day of week; for the last Friday of the month write "5L"",
        "jobs.yaml:4:45: jobs.j1.schedule: cron day of month field "15W": "15W" (the weekday nearest a day) is not supported; list the days instead",
        "jobs.yaml:5:49: jobs.j2.schedule: cron day of week field "7/2": "7/2" steps from Sunday written as 7: write "0/2"",
      ]
    `);
  });

  test("jobs as a list, a missing version, a wrong version", () => {
    expect(problemsOf("version: 1\njobs:\n  - handler: jobs/ok.ts\n")).toMatchInlineSnapshot(`
      [
        "jobs.yaml:3:3: jobs must be a map (got a list)",
      ]
    `);
    expect(problemsOf("jobs: {}\n")).toMatchInlineSnapshot(`
      [
        "jobs.yaml:1:1: manifest is missing required key 'version'",
      ]
    `);
    expect(problemsOf("version: 2\njobs: {}\n")).toMatchInlineSnapshot(`
      [
        "jobs.yaml:1:10: version must be 1 (got 2)",
      ]
    `);
  });

  test("a handler outside the project, by .. or by symlink, is refused", () => {
    using outside = tempProject({ "secret.ts": okHandler });
    using project = tempProject({ "jobs/ok.ts": okHandler });
    symlinkSync(outside.path("secret.ts"), project.path("jobs/link.ts"));
    project.write("jobs.yaml", `version: 1\njobs:\n  a: { handler: ../${outside.dir.split("/").pop()}/secret.ts }\n  b: { handler: jobs/link.ts }\n  c: { handler: jobs }\n`);
    const err = (() => {
      try {
        loadManifest(project.path("jobs.yaml"));
      } catch (e) {
        return e as ManifestError;
      }
      throw new Error("expected a ManifestError");
    })();
    expect(err.code).toBe("MANIFEST_INVALID");
    expect(err.problems.map((p) => [p.line, p.col, p.message.replace(/\/\S+/g, "<path>")])).toMatchInlineSnapshot(`
      [
        [
          3,
          17,
          "jobs.a.handler "..<path> is outside the project folder <path>",
        ],
        [
          4,
          17,
          "jobs.b.handler "jobs<path> resolves to <path> outside the project folder <path>",
        ],
        [
          5,
          17,
          "jobs.c.handler must be a .ts, .mts, .js, .mjs or .cjs file (got "jobs")",
        ],
      ]
    `);
  });

  test("an alias bomb is refused quickly", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const started = performance.now();
    const problems = problemsOf(`version: 1\n${levels.join("\n")}\njobs: {}\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^jobs\.yaml:3:\d+: .*alias/i);
    // Generous bound: the point is that it does not expand 10^9 nodes.
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("__proto__ keys neither pollute Object.prototype nor pass as job names", () => {
    const problems = problemsOf(`version: 1\njobs:\n  __proto__:\n    handler: jobs/ok.ts\n    polluted: true\n`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(problems.some((p) => p.startsWith("jobs.yaml:3:3: ") && p.includes("not a valid job name"))).toBe(true);
  });
});

test("the JSON Schema and the normalizer know the same job fields", () => {
  const defs = manifestSchema.$defs as Record<string, { properties: Record<string, unknown> }>;
  const root = manifestSchema.properties as Record<string, { properties: Record<string, unknown> }>;
  expect(Object.keys(defs.job!.properties).sort()).toEqual([...JOB_FIELDS].sort());
  expect(Object.keys(root.defaults!.properties).sort()).toEqual(JOB_FIELDS.filter((f) => f !== "handler" && f !== "schedule" && f !== "after").sort());
  // Every property an editor shows has hover documentation.
  const undocumented: string[] = [];
  const walk = (schema: unknown, path: string) => {
    if (!schema || typeof schema !== "object") return;
    const s = schema as Record<string, unknown>;
    for (const [key, sub] of Object.entries((s.properties as Record<string, Record<string, unknown>>) ?? {})) {
      const target = typeof sub.$ref === "string" ? defs[sub.$ref.split("/").pop()!] : undefined;
      if (!sub.description && !(target as { description?: string } | undefined)?.description) undocumented.push(`${path}.${key}`);
      walk(sub, `${path}.${key}`);
    }
    for (const branch of [...((s.anyOf as unknown[]) ?? [])]) walk(branch, path);
  };
  walk(manifestSchema, "root");
  for (const [name, def] of Object.entries(defs)) walk(def, name);
  expect(undocumented).toEqual([]);
});
