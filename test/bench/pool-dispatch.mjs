// Per-run latency of runlet's thread executor against raw piscina, one run at a time.
//   npm run build && node test/bench/pool-dispatch.mjs [runs]
// Rows (median and p90 of one awaited run, µs):
//   raw piscina, echo           : a worker that returns its task (piscina's own floor)
//   raw piscina, import+call    : a worker that imports the handler (cached) and calls it
//   raw + MessageChannel        : the same, with a port transferred per task: what a per-run
//                                 log/abort channel would cost (runlet keeps one port per worker)
//   runlet thread executor      : ThreadExecutor.run() with a trivial handler, live signal, silent logger
//   runlet thread, jobs alternate: the same, each run of another job than the last, so the worker
//                                 compares its globals with a fresh worker's before each (the
//                                 isolation check; same-job runs skip it)
//   runlet thread, 1 log line   : the same handler logging one info line to a pino logger (null sink)
//   runlet inline executor      : InlineExecutor.run(), for scale
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { pino } from "pino";
import { ThreadExecutor } from "../../dist/runner/execute/thread-executor.js";
import { InlineExecutor } from "../../dist/runner/execute/inline-executor.js";

const runs = Number(process.argv[2] ?? 5000);
const dir = mkdtempSync(join(tmpdir(), "runlet-bench-"));
const handler = join(dir, "trivial.mjs");
writeFileSync(handler, "export default (ctx) => ({ ok: true, attempt: ctx.attempt });\n");
const logging = join(dir, "logging.mjs");
writeFileSync(logging, "export default (ctx) => { ctx.log.info({ attempt: ctx.attempt }, 'hello'); return { ok: true }; };\n");
const echoWorker = join(dir, "echo-worker.mjs");
writeFileSync(echoWorker, "export default (task) => task.n;\n");
const importWorker = join(dir, "import-worker.mjs");
writeFileSync(
  importWorker,
  `import { pathToFileURL } from "node:url";
const cache = new Map();
export default async (task) => {
  let mod = cache.get(task.modulePath);
  if (!mod) cache.set(task.modulePath, (mod = await import(pathToFileURL(task.modulePath).href)));
  if (task.port) task.port.close();
  return { ok: true, value: await mod.default({ attempt: task.n }) };
};
`,
);

// Rows are measured interleaved, in batches, so a drift in machine load hits every row alike.
const batch = 250;
async function measureAll(rows) {
  const times = Object.fromEntries(Object.keys(rows).map((name) => [name, []]));
  for (const fn of Object.values(rows)) for (let i = 0; i < batch; i++) await fn(i); // warm-up
  for (let done = 0; done < runs; done += batch) {
    for (const [name, fn] of Object.entries(rows)) {
      for (let i = 0; i < batch; i++) {
        const start = process.hrtime.bigint();
        await fn(done + i);
        times[name].push(Number(process.hrtime.bigint() - start) / 1000);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(times).map(([name, t]) => {
      t.sort((a, b) => a - b);
      return [name, { median: t[t.length >> 1], p90: t[Math.floor(t.length * 0.9)] }];
    }),
  );
}

const poolOptions = { atomics: "async", minThreads: 1, maxThreads: 1, idleTimeout: 60_000, recordTiming: false };
const echo = new Piscina({ ...poolOptions, filename: pathToFileURL(echoWorker).href });
const raw = new Piscina({ ...poolOptions, filename: pathToFileURL(importWorker).href });
for (const pool of [echo, raw]) pool.on("error", (err) => console.error("pool error", err));
const silent = pino({ level: "silent" });
const thread = new ThreadExecutor({ logger: silent, maxThreads: 1, idleTimeoutMs: 60_000 });
const inline = new InlineExecutor();
const sink = pino({ level: "info" }, { write() {} }).child({ job: "bench", runId: "r" });
const signal = new AbortController().signal;
const request = (n) => ({ job: "bench", runId: `r${n}`, modulePath: handler, fireDate: new Date(), attempt: n, params: null, env: "bench", trigger: { kind: "schedule" }, signal, log: silent, memoryMb: null });

const rows = {
  "raw piscina, echo": (n) => echo.run({ n }),
  "raw piscina, import+call": (n) => raw.run({ n, modulePath: handler }),
  "raw + MessageChannel": (n) => {
    const { port1, port2 } = new MessageChannel();
    port1.on("message", () => {});
    return raw.run({ n, modulePath: handler, port: port2 }, { transferList: [port2] }).finally(() => port1.close());
  },
  "runlet thread executor": (n) => thread.run(request(n)),
  // Every run is of another job than the worker's last: each compares the worker's globals first.
  "runlet thread, jobs alternate": (n) => thread.run({ ...request(n), job: n % 2 ? "bench-a" : "bench-b" }),
  "runlet thread, 1 log line": (n) => thread.run({ ...request(n), modulePath: logging, log: sink }),
  "runlet inline executor": (n) => inline.run(request(n)),
};

const results = await measureAll(rows);
console.log(`${runs} sequential runs per row, interleaved in batches of ${batch}, Node ${process.version}`);
for (const [name, { median, p90 }] of Object.entries(results)) {
  console.log(`${name.padEnd(26)} median ${median.toFixed(1).padStart(6)} µs   p90 ${p90.toFixed(1).padStart(6)} µs`);
}
const ratio = results["runlet thread executor"].median / results["raw piscina, import+call"].median;
console.log(`runlet thread / raw piscina import+call: ${ratio.toFixed(2)}x (target: within 2x)`);

await Promise.all([echo.close(), raw.close(), thread.close(), inline.close()]);
rmSync(dir, { recursive: true, force: true });
