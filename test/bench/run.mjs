// The benchmark suite: every part, or the ones named, each in its own Node process (so one
// part's heap, pools and timers never weigh on the next), printing its tables; then one
// summary and bench-results.json (date, machine, each part's rows).
//   npm run bench                                  the whole suite (build first)
//   node test/bench/run.mjs [part ...] [--smoke] [--seconds N]
// --smoke: small sizes, the whole suite in about 30 s; it fails only on errors, never on timings.
// A part whose file does not exist yet is skipped with a note. Exit code 1 if any part failed.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dist, fmt, machine, printTable, repoRoot, tempProject } from "./lib.mjs";

export const PARTS = ["validate", "dispatch", "reload", "store", "scale", "replicas", "handler-faults", "after", "run-logs", "run-logs-flood", "replica-faults", "job-entry", "thread-queue", "fire-cost", "thread-cost", "invoke-cost", "worker-priority"];
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const resultsFile = `${repoRoot}/bench-results.json`;

/** What each part's `run()` is given; validate has no smoke size of its own. */
function optionsFor(part, { smoke, seconds }) {
  if (part === "validate") return smoke ? { smoke, sizes: [1_000] } : { smoke };
  if (part === "scale") return { smoke, ...(seconds ? { seconds } : {}) };
  return { smoke };
}

/** Child side: imports one part, runs it, writes its rows to `out`. */
async function runPart(part, out, flags) {
  const mod = await import(pathToFileURL(here(`./${part}.mjs`)).href);
  if (typeof mod.run !== "function") throw new Error(`test/bench/${part}.mjs exports no run(options) function`);
  const rows = await mod.run(optionsFor(part, flags));
  writeFileSync(out, JSON.stringify(rows ?? []));
}

function spawnPart(part, out, flags) {
  const args = [here("./run.mjs"), "--child", part, "--out", out, ...(flags.smoke ? ["--smoke"] : []), ...(flags.seconds ? ["--seconds", String(flags.seconds)] : [])];
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, args, { stdio: "inherit" });
    proc.on("error", (err) => resolve({ code: 1, error: err.message }));
    proc.on("close", (code, signal) => resolve({ code: code ?? 1, error: signal ? `killed by ${signal}` : code ? `exited with ${code}` : null }));
  });
}

async function main(argv) {
  const flags = { smoke: argv.includes("--smoke"), seconds: Number(valueOf(argv, "--seconds")) || undefined };
  const named = argv.filter((a, i) => !a.startsWith("--") && argv[i - 1] !== "--seconds");
  const unknown = named.filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) {
    console.error(`unknown part ${unknown.join(", ")}; parts are: ${PARTS.join(", ")}`);
    return 2;
  }
  if (!existsSync(dist("runner/index.js"))) {
    console.error("dist/ is missing: build first (npm run build, or npm run bench which builds)");
    return 2;
  }
  const parts = named.length > 0 ? named : PARTS;
  console.log(`runlet benchmarks${flags.smoke ? " (smoke: small sizes, timings not judged)" : ""} — ${machine()}, ${new Date().toISOString()}`);

  const scratch = tempProject();
  const results = {};
  try {
    for (const part of parts) {
      if (!existsSync(here(`./${part}.mjs`))) {
        results[part] = { status: "skipped", note: `test/bench/${part}.mjs does not exist yet`, seconds: 0, rows: [] };
        continue;
      }
      console.log(`\n=== ${part} ===`);
      const out = scratch.path(`${part}.json`);
      const t0 = performance.now();
      const { error } = await spawnPart(part, out, flags);
      const seconds = (performance.now() - t0) / 1000;
      const rows = !error && existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : [];
      results[part] = { status: error ? "failed" : "ok", ...(error ? { note: error } : {}), seconds, rows };
    }
  } finally {
    scratch.remove();
  }

  const total = Object.values(results).reduce((s, r) => s + r.seconds, 0);
  printTable(
    `Suite${flags.smoke ? " (smoke)" : ""}: ${fmt(total, 1)} s`,
    ["part", "status", "seconds", "note"],
    Object.entries(results).map(([part, r]) => [part, r.status, fmt(r.seconds, 1), r.note ?? ""]),
  );
  writeResults(results, flags);
  return Object.values(results).some((r) => r.status === "failed") ? 1 : 0;
}

/** Merges into bench-results.json: parts not run this time keep their last figures (each has its own date). */
function writeResults(results, { smoke }) {
  let previous = {};
  try {
    previous = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")).parts ?? {} : {};
  } catch (err) {
    console.warn(`bench-results.json was unreadable (${err.message}); writing a new one`);
    rmSync(resultsFile, { force: true });
  }
  const date = new Date().toISOString();
  const parts = { ...previous };
  for (const [part, r] of Object.entries(results)) if (r.status !== "skipped" || !parts[part]) parts[part] = { ...r, date, smoke };
  writeFileSync(resultsFile, `${JSON.stringify({ date, machine: machine(), node: process.version, parts }, null, 2)}\n`);
  console.log(`\nwrote ${resultsFile}`);
}

function valueOf(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    await runPart(argv[1], valueOf(argv, "--out"), { smoke: argv.includes("--smoke"), seconds: Number(valueOf(argv, "--seconds")) || undefined });
    process.exit(0);
  }
  process.exit(await main(argv));
}
