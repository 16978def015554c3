// Thread cold start by what a handler imports: the first run of a thread-mode handler in
// a fresh worker pool, for a handler importing nothing, one importing `runlet/job` (the
// light entry handlers are told to use) and one importing the whole `runlet` entry (what
// handlers imported before). Each round makes a new runner (new pool) per variant, in
// turn, so drift in the machine's speed hits all three alike. Figures: the invoke's wall
// time after the manifest is loaded and compiled (a worker starts, imports the handler,
// runs it), and the run's recorded duration (the import and the call in that worker).
//   npm run build && node test/bench/job-entry.mjs [--smoke]
import { dist, fmt, machine, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { MemoryStore } = await import(dist("runner/store/memory-store.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));

const VARIANTS = {
  bare: "export default async () => 1;\n",
  "runlet/job": 'import { defineJob } from "runlet/job";\nexport default defineJob(async () => 1);\n',
  "runlet (whole entry)": 'import { defineJob } from "runlet";\nexport default defineJob(async () => 1);\n',
};

export async function run({ smoke = false } = {}) {
  const rounds = smoke ? 2 : 9;
  const files = Object.fromEntries(Object.entries(VARIANTS).map(([name, code], i) => [`jobs/v${i}.mjs`, code]));
  const names = Object.keys(VARIANTS);
  const jobs = names.map((_, i) => `  v${i}: { handler: jobs/v${i}.mjs, mode: thread }`).join("\n");
  const project = tempProject({ ...files, "jobs.yaml": `version: 1\njobs:\n${jobs}\n` });
  const durations = Object.fromEntries(names.map((n) => [n, []]));
  const walls = Object.fromEntries(names.map((n) => [n, []]));
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const [i, name] of names.entries()) {
        const logger = silentLogger();
        const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", logger, store: new MemoryStore({ logger }) });
        try {
          await runner.load();
          const began = performance.now();
          const record = await runner.invoke(`v${i}`);
          const wall = performance.now() - began;
          if (record.status !== "ok") throw new Error(`${name}: ${record.status} ${record.error?.message}`);
          // Round 0 warms the main side (esbuild, the executor's code) and is not counted.
          if (round > 0) {
            durations[name].push(Date.parse(record.finishedAt) - Date.parse(record.startedAt));
            walls[name].push(wall);
          }
        } finally {
          await runner.stop();
        }
      }
    }
  } finally {
    project.remove();
  }
  const bare = summary(walls.bare).p50;
  const rows = names.map((name) => {
    const wall = summary(walls[name]);
    return { variant: name, coldStartP50Ms: wall.p50, coldStartMaxMs: wall.max, runP50Ms: summary(durations[name]).p50, ratio: wall.p50 / bare };
  });
  printTable(
    `Thread cold start by the handler's imports (first run in a fresh pool; ${rounds} rounds) — ${machine()}`,
    ["handler imports", "cold start p50 (ms)", "max (ms)", "vs bare", "recorded run p50 (ms)"],
    rows.map((r) => [r.variant, fmt(r.coldStartP50Ms, 1), fmt(r.coldStartMaxMs, 1), `${fmt(r.ratio, 2)}×`, fmt(r.runP50Ms, 1)]),
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run({ smoke: process.argv.includes("--smoke") });
