// A run's log buffer opens with its first kept line: a run in flight that has logged nothing
// is still live (with no lines), and a line its leftover timer logs after it ended is kept
// nowhere.
import { expect, test } from "vitest";
import { createRunner } from "../../runner/index.js";
import { silentLogger } from "../../runner/log/logger.js";
import { MemoryStore } from "../../runner/store/memory-store.js";
import type { RunRecord } from "../../runner/contracts/index.js";
import { tempProject } from "../support/temp-project.js";
import { waitFor } from "../support/poll.js";

const QUIET = `export default async (ctx) => {
  const state = (globalThis.__quiet ??= {});
  await new Promise((resolve) => { state.release = resolve; });
  setTimeout(() => { ctx.log.info("after the end"); state.loggedLate = true; }, 10);
  return "done";
};\n`;

type QuietState = { release?: () => void; loggedLate?: boolean };
const state = () => ((globalThis as { __quiet?: QuietState }).__quiet ??= {});

test("in flight with nothing logged: live, no lines; a line logged after the run ended is not kept", async () => {
  using project = tempProject({ "jobs/quiet.ts": QUIET, "jobs.yaml": "version: 1\njobs:\n  quiet: { handler: jobs/quiet.ts }\n" });
  const store = new MemoryStore({ logger: silentLogger() });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), store, logger: silentLogger() });
  try {
    await runner.load();
    const started = new Promise<RunRecord>((resolve) => runner.on("record", (r) => r.status === "running" && resolve(r)));
    const ended = runner.invoke("quiet");
    const { runId } = await started;
    await waitFor(() => state().release !== undefined, 10_000, "the handler to wait");
    expect(runner.liveLogs(runId)).toMatchObject({ runId, job: "quiet", lines: [], dropped: 0 });

    state().release!();
    expect((await ended).status).toBe("ok");
    await waitFor(() => state().loggedLate === true, 10_000, "the leftover timer to log");
    expect(runner.liveLogs(runId)).toBeNull();
    expect(await store.runLogs(runId)).toBeNull();
  } finally {
    await runner.stop();
  }
});
