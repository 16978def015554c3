// A pool worker's own time per run: the built worker entry's task function called in a loop
// inside one worker thread (no piscina, no main thread, no wake-ups), for a trivial handler.
// What every thread run costs the worker before and after its handler. Five rounds; the
// lowest round is the figure to compare (the others had the CPU taken from them).
//   npm run build && node test/bench/worker-run.mjs [runs]
import { Worker } from "node:worker_threads";
import { writeFileSync } from "node:fs";
import { dist, tempProject } from "./lib.mjs";

const runs = Number(process.argv[2] ?? 20000);
const project = tempProject({
  "h.mjs": "export default () => ({ startedAt: Number(process.hrtime.bigint()) / 1e6 });\n",
  "loop.mjs": `import { workerData, parentPort } from "node:worker_threads";
const { default: runTask } = await import(workerData.entry);
const task = (i) => ({ key: i, modulePath: workerData.handler, job: "bench", runId: "r" + i, fireDate: Date.now(), attempt: 1, params: {}, env: "bench", trigger: { kind: "schedule" }, logLevel: Infinity, memoryMb: null });
for (let i = 0; i < 2000; i++) await runTask(task(i));
const rounds = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  for (let i = 0; i < workerData.runs / 5; i++) await runTask(task(i));
  rounds.push(((performance.now() - t0) * 1000) / (workerData.runs / 5));
}
parentPort.postMessage({ rounds: rounds.sort((a, b) => a - b) });
`,
});
try {
  const worker = new Worker(project.path("loop.mjs"), { workerData: { entry: dist("workers/pool-worker.js"), handler: project.path("h.mjs"), runs } });
  const { rounds } = await new Promise((resolve, reject) => {
    worker.on("message", (m) => m.rounds && resolve(m));
    worker.on("error", reject);
  });
  console.log(`worker time per trivial run: lowest round ${rounds[0].toFixed(2)} µs, median ${rounds[2].toFixed(2)} µs (${runs} runs in 5 rounds)`);
  await worker.terminate();
} finally {
  project.remove();
}
