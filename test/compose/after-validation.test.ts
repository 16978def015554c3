import { describe, expect, test } from "vitest";
import { ManifestError } from "../../runner/errors.js";
import { loadManifest } from "../../runner/manifest/index.js";
import { okHandler, tempProject } from "../support/temp-project.js";

function problemsOf(yaml: string): string[] {
  using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": yaml });
  try {
    loadManifest(project.path("jobs.yaml"), { env: "test", displayPath: () => "jobs.yaml" });
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
  }
  throw new Error("expected the manifest to be invalid");
}

describe("after: what the manifest check refuses", () => {
  test("an unknown upstream job, at the name that is wrong", () => {
    expect(
      problemsOf(`version: 1
jobs:
  load: { handler: jobs/ok.ts }
  report:
    handler: jobs/ok.ts
    after: [load, extrct]
  alert:
    handler: jobs/ok.ts
    after: { job: lod, on: failure }
`),
    ).toMatchInlineSnapshot(`
      [
        "jobs.yaml:6:19: jobs.report.after[1] names no job of this manifest (got "extrct"; jobs: load, report, alert)",
        "jobs.yaml:9:19: jobs.alert.after.job names no job of this manifest (got "lod"; jobs: load, report, alert)",
      ]
    `);
  });

  test("a job after itself", () => {
    expect(problemsOf(`version: 1\njobs:\n  a:\n    handler: jobs/ok.ts\n    after: a\n`)).toEqual([
      "jobs.yaml:5:12: jobs.a.after names the job itself: a job cannot run after its own runs (a -> a)",
    ]);
  });

  test("a cycle, written out at the after of the job it closes on", () => {
    expect(
      problemsOf(`version: 1
jobs:
  a:
    handler: jobs/ok.ts
    after: c
  b:
    handler: jobs/ok.ts
    after: a
  c:
    handler: jobs/ok.ts
    after: { job: [b], on: always }
  d:
    handler: jobs/ok.ts
    after: c
`),
    ).toEqual(["jobs.yaml:5:12: jobs.a.after forms a cycle: a -> b -> c -> a (a job must not run, directly or not, after its own runs)"]);
  });

  test("a two-job cycle and a wrongly shaped after, all reported in one pass", () => {
    expect(
      problemsOf(`version: 1
jobs:
  x: { handler: jobs/ok.ts, after: y }
  y: { handler: jobs/ok.ts, after: x }
  z: { handler: jobs/ok.ts, after: { job: x, on: sometimes } }
  w: { handler: jobs/ok.ts, after: 3 }
`),
    ).toEqual([
      "jobs.yaml:3:36: jobs.x.after forms a cycle: x -> y -> x (a job must not run, directly or not, after its own runs)",
      'jobs.yaml:5:50: jobs.z.after.on must be one of success, failure, always (got "sometimes")',
      "jobs.yaml:6:36: jobs.w.after must be a job name or a list of job names (got 3)",
    ]);
  });

  test("a long chain is checked without overflowing the stack", () => {
    const jobs = Array.from({ length: 20_000 }, (_, i) => `  j${i}: { handler: jobs/ok.ts${i > 0 ? `, after: j${i - 1}` : ""} }`);
    using project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": `version: 1\njobs:\n${jobs.join("\n")}\n` });
    const manifest = loadManifest(project.path("jobs.yaml"), { env: "test" });
    expect(manifest.jobs[19_999]!.after).toEqual([{ job: "j19998", on: "success" }]);
  });
});
