import { afterEach, describe, expect, test } from "vitest";
import { createRunner, type Runner } from "../../runner/index.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { ManifestError } from "../../runner/errors.js";
import { okHandler, tempProject, type TempProject } from "../support/temp-project.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";

let project: TempProject | undefined;
let runner: Runner | undefined;
afterEach(async () => {
  await runner?.stop();
  await project?.[Symbol.asyncDispose]();
  runner = project = undefined;
});

const JOBS = 10_000;
/** A job firing every 100 ms beside 10,000 invoke-only jobs (which never fire by themselves). */
function manifest(extra: (i: number) => string[]): string {
  const lines = ["version: 1", "jobs:", "  tick:", "    handler: jobs/ok.ts", "    schedule: { every: 100ms }"];
  for (let i = 0; i < JOBS; i++) lines.push(`  job-${i}:`, "    handler: jobs/ok.ts", ...extra(i));
  return `${lines.join("\n")}\n`;
}
const valid = (version: number) => manifest((i) => [`    params: { n: ${i}, v: ${version} }`, "    timeout: 30s"]);
const invalid = manifest((i) => [i % 2 === 0 ? "    bogus: 1" : "    timeout: soon"]);

/**
 * Reading a 10,000-job manifest takes seconds here. On the main thread it stalled the
 * event loop that long, so every fire due meanwhile started past its lateness (1 s) and
 * was recorded skipped, `late`. Off the main thread (and the rest of the reload in slices)
 * the ticks go on: none is late, and they keep coming while the reload works.
 */
describe("a reload of a 10,000-job manifest", () => {
  test.each([
    ["valid", valid(1)],
    ["invalid", invalid],
  ])("%s: a job firing every 100 ms meanwhile is never skipped as late", async (kind, text) => {
    project = tempProject({ "jobs/ok.ts": okHandler, "jobs.yaml": valid(0) });
    runner = createRunner({ manifest: project.path("jobs.yaml"), env: "test", shutdownGraceMs: 2000, logger: silentLogger(), store: new MemoryStore({ logger: silentLogger() }) });
    await runner.start();
    const ticks: RunRecord[] = [];
    runner.on("record", (record: RunRecord) => {
      if (record.job === "tick" && record.status !== "running") ticks.push(record);
    });

    project.write("jobs.yaml", text);
    const began = Date.now();
    const result = await runner.reload();
    const ended = Date.now();
    expect(result.ok).toBe(kind === "valid");
    if (kind === "invalid") expect(result.error).toBeInstanceOf(ManifestError);
    if (kind === "invalid") expect((result.error as ManifestError).problems).toHaveLength(JOBS);

    const during = ticks.filter((r) => Date.parse(r.scheduledAt) >= began && Date.parse(r.scheduledAt) <= ended);
    expect(ticks.filter((r) => r.status === "skipped"), "ticks skipped during the reload").toEqual([]);
    // Ticks ran all along the reload, not in a burst after it: at least one per 300 ms it took
    // (how long it takes depends on the machine, so the bound scales with it).
    expect(during.length).toBeGreaterThanOrEqual(Math.floor((ended - began) / 100 / 3));
    expect(during.every((r) => r.status === "ok")).toBe(true);
  }, 120_000);
});
