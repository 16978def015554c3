// Fan-out by `after` vs by a shared schedule, side by side in one runner and one run:
// 1 job whose end starts 1,000 `after` jobs, and the same 1,000 jobs (same handler, same
// mode) due on one shared schedule. Latency = handler start − trigger: for `after`, the
// moment the upstream run's final record is emitted; for the schedule, the fire's
// scheduled time. Rounds alternate, so drift in the machine's speed hits both alike.
//   npm run build && node test/bench/after.mjs [--smoke]
import { dist, fmt, machine, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { MemoryStore } = await import(dist("runner/store/memory-store.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));

const clockNow = () => performance.timeOrigin + performance.now(); // ms since the epoch, sub-ms

export async function run({ smoke = false } = {}) {
  const fanOut = smoke ? 200 : 1000;
  const rounds = smoke ? 2 : 7;
  const everyMs = smoke ? 2000 : 4000;
  const names = Array.from({ length: fanOut }, (_, i) => i);
  const project = tempProject({
    // Inline: every start is in this thread, on one clock with the trigger.
    "jobs/start.mjs": "export default (ctx) => { globalThis.__starts.push([ctx.trigger.kind, performance.timeOrigin + performance.now(), ctx.fireDate.getTime()]); };\n",
    "jobs.yaml": [
      "version: 1",
      "defaults: { overlap: allow, lateness: 1m }",
      "jobs:",
      "  root: { handler: jobs/start.mjs }",
      ...names.map((i) => `  after-${i}: { handler: jobs/start.mjs, after: root }`),
      ...names.map((i) => `  sched-${i}: { handler: jobs/start.mjs, schedule: { every: ${everyMs}ms } }`),
      "",
    ].join("\n"),
  });
  globalThis.__starts = [];
  // The in-memory store and no logging: what this part measured before createRunner's defaults became SQLite and stderr.
  const logger = silentLogger();
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", logger, store: new MemoryStore({ logger }) });
  const afterLatency = [];
  const scheduleLatency = [];
  /** Each round's p50 and p99, per path: the machine is shared, so a round can stall as a whole. */
  const perRound = { after: [], schedule: [] };
  try {
    await runner.start();
    // Round 0 warms both paths up (module import, JIT) and is not counted.
    for (let round = 0; round <= rounds; round++) {
      // A scheduled fire of the 1,000: wait for all of them to start.
      globalThis.__starts = [];
      await until(() => globalThis.__starts.filter(([kind]) => kind === "schedule").length >= fanOut);
      const fire = globalThis.__starts.filter(([kind]) => kind === "schedule").slice(0, fanOut);
      if (round > 0) for (const [, startedAt, fireDate] of fire) scheduleLatency.push(startedAt - fireDate);

      // Then the fan-out by `after`, between two fires (the next is ≥ 1 s away).
      await until(() => Date.now() % everyMs > 200 && Date.now() % everyMs < everyMs - 1500);
      globalThis.__starts = [];
      let triggeredAt = 0;
      const onRecord = (record) => {
        if (record.job === "root" && record.status === "ok") triggeredAt = clockNow();
      };
      runner.on("record", onRecord);
      await runner.invoke("root");
      await until(() => globalThis.__starts.filter(([kind]) => kind === "after").length >= fanOut);
      runner.off("record", onRecord);
      if (round > 0) for (const [kind, startedAt] of globalThis.__starts) if (kind === "after") afterLatency.push(startedAt - triggeredAt);
      if (round > 0) {
        perRound.after.push(summary(afterLatency.slice(-fanOut)));
        perRound.schedule.push(summary(scheduleLatency.slice(-fanOut)));
      }
    }
  } finally {
    await runner.stop();
    project.remove();
  }
  const after = summary(afterLatency);
  const sched = summary(scheduleLatency);
  const median = (list, key) => summary(list.map((s) => s[key])).p50;
  const [a50, a99, s50, s99] = [median(perRound.after, "p50"), median(perRound.after, "p99"), median(perRound.schedule, "p50"), median(perRound.schedule, "p99")];
  const rows = [
    [`after: 1 -> ${fanOut}`, after.n, fmt(after.p50), fmt(after.p99), fmt(after.max), fmt(a50), fmt(a99)],
    [`schedule: ${fanOut} on one`, sched.n, fmt(sched.p50), fmt(sched.p99), fmt(sched.max), fmt(s50), fmt(s99)],
    ["ratio after / schedule", "", fmt(after.p50 / sched.p50), fmt(after.p99 / sched.p99), "", fmt(a50 / s50), fmt(a99 / s99)],
  ];
  printTable(`Trigger -> start, ${fanOut} inline jobs, ${rounds} rounds (ms; ${machine()})`, ["fan-out", "runs", "p50", "p99", "max", "round p50 (median)", "round p99 (median)"], rows);
  return rows;
}

async function until(condition, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("benchmark: timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run({ smoke: process.argv.includes("--smoke") });
