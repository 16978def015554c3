import { spawn } from "node:child_process";
import { describe, expect, test } from "vitest";
import { runCli } from "../support/cli.js";
import { waitFor } from "../support/poll.js";
import { okHandler, tempProject } from "../support/temp-project.js";

/** The program of docs/migrating-class-jobs.md ("Where runs go"), in plain JavaScript. */
const MAIN = `import { configureRuntime, createRunner, JobFactory } from "runlet";

class CleanupFactory extends JobFactory {
  getSpec() { return "* * * * * *"; }
  getJobCallback() { return async () => {}; }
}

const runner = createRunner({ manifest: "jobs.yaml" });
const classic = configureRuntime({ runner });
new CleanupFactory().create();
await runner.start();

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await classic.stop();
    await runner.stop();
  });
}
`;

describe("the documented program with class jobs beside a runner", () => {
  test("keeps running, records its class job's fires in the runner's SQLite store, and exits 0 on SIGTERM", async () => {
    using project = tempProject({ "jobs/a.ts": okHandler, "jobs.yaml": "version: 1\njobs:\n  a: { handler: jobs/a.ts }\n", "main.mjs": MAIN });
    const child = spawn(process.execPath, ["main.mjs"], { cwd: project.dir, env: { ...process.env, LOG_LEVEL: "warn" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    // Polling the real store (the program emits nothing a test could await); a program that exits ends the wait.
    const runs = () => {
      expect(child.exitCode, stderr).toBeNull();
      const history = runCli(["history", "--json"], { cwd: project.dir });
      return (history.status === 0 && history.stdout.startsWith("[") ? JSON.parse(history.stdout) : []) as { job: string; status: string }[];
    };
    await waitFor(runs, { until: (list) => list.some((r) => r.job === "cleanup" && r.status === "ok"), timeoutMs: 30_000, everyMs: 500, what: "an ok run of the class job cleanup" });
    child.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
  }, 60_000);
});
