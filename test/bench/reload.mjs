// Hot reload, side by side in one run: save-to-live latency of `runlet dev` (file written →
// an invoke returns the new code's result) vs a restart-based reload (`node --watch` on an
// equivalent script); and memory after many handler reloads in thread mode.
//   npm run build && node test/bench/reload.mjs [--smoke]
import { spawn } from "node:child_process";
import { dist, fmt, printTable, summary, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { MemoryStore } = await import(dist("runner/store/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));
const { ThreadExecutor } = await import(dist("runner/execute/thread-executor.js"));

const handler = (n) => `import { helper } from "./lib.js";\nexport default () => helper(${n});\n`;
const helperFile = "export const helper = (n) => ({ version: n });\n";

/** Writes version `n`, waits for the reload, invokes until the new result is served. */
async function saveToLive(runner, project, n) {
  const t0 = performance.now();
  const reloaded = new Promise((resolve) => runner.once("reload", resolve));
  project.write("jobs/h.ts", handler(n));
  const result = await reloaded;
  if (!result.ok) throw new Error(`reload failed: ${result.error?.message}`);
  for (;;) {
    const record = await runner.invoke("h");
    if (record.result?.version === n) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1));
  }
}

async function runletLatency(edits, mode) {
  const project = tempProject({ "jobs/h.ts": handler(0), "jobs/lib.ts": helperFile, "jobs.yaml": `version: 1\njobs:\n  h: { handler: jobs/h.ts, mode: ${mode} }\n` });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", watch: true, store: new MemoryStore({ logger: silentLogger() }) });
  try {
    await runner.start();
    await runner.invoke("h");
    const times = [];
    // Spaced out like a person saving, and past chokidar's 50 ms per-file event throttle.
    for (let n = 1; n <= edits; n++) {
      times.push(await saveToLive(runner, project, n));
      await new Promise((r) => setTimeout(r, 60));
    }
    return times;
  } finally {
    await runner.stop();
    project.remove();
  }
}

/** `node --watch` restarts a script that imports the handler and prints its result. */
async function restartLatency(edits) {
  const project = tempProject({
    "h.mjs": "export default () => ({ version: 0 });\n",
    "serve.mjs": `import h from "./h.mjs";\nconsole.log(JSON.stringify(h()));\nsetInterval(() => {}, 1 << 30);\n`,
  });
  const child = spawn(process.execPath, ["--watch", "serve.mjs"], { cwd: project.dir, stdio: ["ignore", "pipe", "ignore"] });
  let waiting = null;
  let buffered = "";
  child.stdout.on("data", (chunk) => {
    buffered += chunk;
    for (let i; (i = buffered.indexOf("\n")) >= 0; ) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      if (line.startsWith("{") && waiting && JSON.parse(line).version === waiting.n) waiting.resolve();
    }
  });
  const served = (n) => new Promise((resolve) => (waiting = { n, resolve }));
  try {
    await served(0);
    const times = [];
    for (let n = 1; n <= edits; n++) {
      const t0 = performance.now();
      const done = served(n);
      project.write("h.mjs", `export default () => ({ version: ${n} });\n`);
      await done;
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 60));
    }
    return times;
  } finally {
    child.kill();
    project.remove();
  }
}

/**
 * Longer than the ~5 s of allocation history V8 sizes its young generation by, and than the
 * 1 s pause after which a reload replaces the pool (the smoke run, which judges nothing,
 * waits only for the latter).
 */
const QUIET_MS = 6_000;

/**
 * process.memoryUsage() and V8's heap spaces after `count` handler reloads in thread mode,
 * each followed by a run on the pool. Runs in a fresh process (memoryChild below), so the
 * figures hold the runner alone, not the latency runs' watchers and children before it.
 */
async function memoryAfterReloads(counts, quietMs) {
  const project = tempProject({ "jobs/h.ts": handler(0), "jobs/lib.ts": helperFile, "jobs.yaml": `version: 1\njobs:\n  h: { handler: jobs/h.ts, mode: thread }\n` });
  const threads = new ThreadExecutor({ logger: silentLogger() });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "bench", store: new MemoryStore({ logger: silentLogger() }), executors: { thread: threads } });
  const { getHeapSpaceStatistics } = await import("node:v8");
  const snapshot = () => {
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    return { ...process.memoryUsage(), newSpace: spaces.new_space, oldSpace: spaces.old_space, codeSpace: spaces.code_space };
  };
  const invokeExpecting = async (version) => {
    const record = await runner.invoke("h");
    if (record.result?.version !== version) throw new Error(`expected version ${version}, got ${JSON.stringify(record.result)}`);
  };
  const memory = {};
  try {
    await runner.start();
    // Reload as SIGHUP does (no watcher): the same rebuild and pool recycling, faster to drive.
    for (let n = 1; n <= Math.max(...counts); n++) {
      project.write("jobs/h.ts", handler(n));
      const result = await runner.reload([project.path("jobs/h.ts")]);
      if (!result.ok) throw new Error(result.error?.message);
      await invokeExpecting(n);
      if (counts.includes(n)) {
        const burst = snapshot();
        // Settled as a dev session is between saves: idle, then collected. V8 sizes its young
        // generation by the allocation rate of the last ~5 s between collections, and these
        // reloads come back to back (~80 a second), so straight after them the young
        // generation is sized for the burst (twice as large after 1,000 as after 10). A
        // collection, a quiet spell longer than that window, then full collections (which
        // also hand freed pages back at once) measure what the reloads left behind.
        global.gc();
        await new Promise((r) => setTimeout(r, quietMs));
        // The same pool state at every count: the quiet spell let the pause replace the pool
        // (at a multiple of 20 reloads it was replaced at once), and this run gives the new
        // pool its one worker, holding one module.
        await invokeExpecting(n);
        const { threads: alive } = threads.stats();
        if (alive !== 1) throw new Error(`expected one worker thread after ${n} reloads, found ${alive}: the counts would not compare alike`);
        for (let i = 0; i < 4; i++) global.gc();
        await new Promise((r) => setTimeout(r, 200));
        memory[n] = { ...snapshot(), threads: alive, burstRss: burst.rss, burstNewSpace: burst.newSpace };
      }
    }
    return memory;
  } finally {
    await runner.stop();
    project.remove();
  }
}

function memoryChild(counts, quietMs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--expose-gc", new URL(import.meta.url).pathname, "--memory-child", counts.join(","), String(quietMs)], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.on("error", reject);
    proc.on("close", (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split("\n").pop())) : reject(new Error(`memory child exited with ${code}`))));
  });
}

export async function run({ smoke = false } = {}) {
  const edits = smoke ? 10 : 50;
  const inline = summary(await runletLatency(edits, "inline"));
  const thread = summary(await runletLatency(edits, "thread"));
  const restart = summary(await restartLatency(smoke ? 5 : 20));
  const rows = [
    { runner: "runlet dev, inline", edits, p50Ms: inline.p50, p95Ms: inline.p95 },
    { runner: "runlet dev, thread", edits, p50Ms: thread.p50, p95Ms: thread.p95 },
    { runner: "node --watch (restart)", edits: restart.n, p50Ms: restart.p50, p95Ms: restart.p95 },
  ];
  printTable("Save to live: file written → invoke returns the new code's result", ["reload by", "edits", "p50 ms", "p95 ms", "vs runlet inline p50"], rows.map((r) => [r.runner, r.edits, fmt(r.p50Ms, 1), fmt(r.p95Ms, 1), `${fmt(r.p50Ms / inline.p50, 1)}×`]));
  console.log(`node --watch takes ${fmt(restart.p50 / inline.p50, 1)}× as long as runlet to serve new code (target ≥ 10×; runlet p50 target < 50 ms).`);

  // 10 → 1,000 is the measure; 1,000 → 1,500 shows whether growth goes on after warm-up.
  const counts = smoke ? [10, 50, 100] : [10, 1000, 1500];
  const memory = await memoryChild(counts, smoke ? 1_500 : QUIET_MS);
  const [few, many, more] = counts;
  const mb = (bytes) => bytes / 2 ** 20;
  const growth = (key, from = few, to = many) => (memory[to][key] - memory[from][key]) / memory[from][key];
  rows.push({ runner: "thread-mode reloads", reloadsFew: few, rssFewMb: mb(memory[few].rss), reloadsMany: many, rssManyMb: mb(memory[many].rss), growth: growth("rss"), heapGrowth: growth("heapUsed"), heapTotalGrowth: growth("heapTotal"), burstGrowth: growth("burstRss"), reloadsMore: more, rssMoreMb: mb(memory[more].rss), laterGrowth: growth("rss", many, more) });
  printTable(
    "Memory after handler reloads in thread mode (a fresh process; pools replaced after a pause, or every 20 reloads; settled = 6 s idle, then full GCs)",
    ["measure", `after ${few} MB`, `after ${many} MB`, `growth ${few}→${many}`, `after ${more} MB`, `growth ${many}→${more}`],
    [["RSS, settled", "rss"], ["JS heap in use", "heapUsed"], ["JS heap reserved", "heapTotal"], ["  of it young generation", "newSpace"], ["  old generation", "oldSpace"], ["  code", "codeSpace"], ["RSS straight after the reloads", "burstRss"], ["  young generation then", "burstNewSpace"]].map(([label, key]) => [
      label, fmt(mb(memory[few][key]), 1), fmt(mb(memory[many][key]), 1), `${fmt(growth(key) * 100, 1)}%`, fmt(mb(memory[more][key]), 1), `${fmt(growth(key, many, more) * 100, 1)}%`,
    ]),
  );
  console.log(`RSS growth from ${few} to ${many} reloads: ${fmt(growth("rss") * 100, 1)}% (target < 20%), from ${many} to ${more}: ${fmt(growth("rss", many, more) * 100, 1)}%; JS heap in use ${fmt(growth("heapUsed") * 100, 1)}%; measured straight after the reloads, with V8's young generation still sized for them: ${fmt(growth("burstRss") * 100, 1)}%. Worker threads alive at each count: ${counts.map((c) => memory[c].threads).join(" / ")}.`);
  return rows;
}

if (process.argv[1]?.endsWith("reload.mjs") && process.argv[2] === "--memory-child") {
  console.log(JSON.stringify(await memoryAfterReloads(process.argv[3].split(",").map(Number), Number(process.argv[4] ?? QUIET_MS))));
  process.exit(0);
} else if (process.argv[1]?.endsWith("reload.mjs")) {
  await run({ smoke: process.argv.includes("--smoke") });
  process.exit(0);
}
