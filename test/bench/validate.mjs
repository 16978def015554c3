// Validating a 10,000-job manifest takes under 1 s, and 1,000,000 jobs under 10 s through
// `runlet validate`. Prints the figure for 1k and 10k jobs, the YAML readers side by side
// on the same text (the line reader and js-yaml, which read a manifest first, and `yaml`,
// which gives positions when a problem needs them), and `runlet validate` as a person runs
// it: a fresh process that also compiles the handlers. Then 1,000,000 realistic jobs
// (smoke: 100,000) sharing 10 handler files, with the time split into its parts.
//   npm run build && node test/bench/validate.mjs [--smoke] [--big-only]
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { loadManifest, inspectManifest } = await import(dist("runner/manifest/index.js"));
const { readPlainYaml, readWithJsYaml } = await import(dist("runner/manifest/plain-yaml.js"));
const { parsePositioned } = await import(dist("runner/manifest/yaml-source.js"));
const cli = dist("runner/cli/main.js");

export function manifestOf(jobs, handlers = 100) {
  const lines = ["version: 1", "defaults:", "  timezone: UTC", "jobs:"];
  for (let i = 0; i < jobs; i++) {
    lines.push(`  job-${i}:`, `    handler: jobs/h${i % handlers}.ts`, `    schedule: "${i % 60} ${i % 7} * * * *"`, `    params: { n: ${i} }`, `    timeout: 30s`, `    retries: { max: 2, backoff: exponential, delay: 1s }`);
  }
  return `${lines.join("\n")}\n`;
}

/** Best and median of `runs` timed calls, after one untimed warm-up. */
function timed(runs, fn) {
  fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)] };
}

/**
 * A big manifest as one is written: 10 handler files shared by every job, a third of the
 * jobs on an interval and the rest on one of 420 crons, half with params, a quarter with a
 * timeout and retries.
 */
export function bigManifestOf(jobs) {
  const lines = ["version: 1", "defaults:", "  timezone: UTC", "jobs:"];
  for (let i = 0; i < jobs; i++) {
    lines.push(`  job-${i}:`, `    handler: jobs/h${i % 10}.ts`);
    lines.push(i % 3 === 0 ? `    schedule: { every: ${1 + (i % 5)}m }` : `    schedule: "${i % 60} ${i % 7} * * * *"`);
    if (i % 2 === 0) lines.push(`    params: { n: ${i}, label: "item ${i}" }`);
    if (i % 4 === 1) lines.push("    timeout: 30s", "    retries: { max: 2, backoff: exponential, delay: 1s }");
  }
  return `${lines.join("\n")}\n`;
}

/** Wall and CPU ms of one call. */
function measured(fn) {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - t, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * 1,000,000 jobs (smoke: 100,000): `runlet validate` in fresh processes (best and worst of
 * `runs`), then in this process the parts of the time: reading the file, the line reader,
 * js-yaml on the same text (what read it before), and the checks after the read (schema,
 * schedules, handlers, normalize: inspectManifest minus its read).
 */
async function big({ smoke, runs = smoke ? 1 : 3 }) {
  const jobs = smoke ? 100_000 : 1_000_000;
  const files = { "jobs.yaml": bigManifestOf(jobs) };
  for (let h = 0; h < 10; h++) files[`jobs/h${h}.ts`] = `export default async () => ${h};\n`;
  const project = tempProject(files);
  try {
    const file = project.path("jobs.yaml");
    const load = loadavg()[0];
    const cliMs = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      const child = spawnSync(process.execPath, [cli, "validate"], { cwd: project.dir, encoding: "utf8" });
      cliMs.push(performance.now() - start);
      if (child.status !== 0 || !child.stderr.includes(`${jobs} jobs, all valid.`)) throw new Error(`runlet validate exited ${child.status}: ${child.stderr.slice(0, 500)}`);
    }
    cliMs.sort((a, b) => a - b);
    const read = measured(() => readFileSync(file, "utf8"));
    const text = read.value;
    // The two readers alternate, twice each (the first of each also warms it up): the better of each.
    const better = (a, b) => (a.ms <= b.ms ? a : b);
    let lineReader = measured(() => readPlainYaml(text));
    let jsYaml = measured(() => readWithJsYaml(text));
    lineReader = better(lineReader, measured(() => readPlainYaml(text)));
    jsYaml = better(jsYaml, measured(() => readWithJsYaml(text)));
    const inspect = measured(() => inspectManifest(file, text));
    if (inspect.value.problems.length > 0 || inspect.value.manifest.jobs.length !== jobs) throw new Error(`expected ${jobs} valid jobs`);
    const row = {
      jobs, load, cliBestMs: cliMs[0], cliWorstMs: cliMs[cliMs.length - 1], readMs: read.ms, lineReaderMs: lineReader.ms, lineReaderCpuMs: lineReader.cpuMs,
      jsYamlMs: jsYaml.ms, jsYamlCpuMs: jsYaml.cpuMs, checksMs: inspect.ms - lineReader.ms, inspectMs: inspect.ms,
    };
    printTable(
      `\`runlet validate\` of ${jobs.toLocaleString("en")} jobs sharing 10 handler files (fresh process, ${runs} run${runs === 1 ? "" : "s"}; load average ${fmt(load, 2)} on ${cpus().length} cores at the start), and its parts in-process (wall ms, the better of two for each reader; CPU ms in brackets)`,
      ["jobs", "`runlet validate` best ms", "worst ms", "target", "read file", "line reader", "js-yaml (read before)", "js-yaml / line reader", "checks after the read", "inspectManifest"],
      [[jobs, fmt(row.cliBestMs, 0), fmt(row.cliWorstMs, 0), smoke ? "" : "< 10000 ms", fmt(row.readMs, 0), `${fmt(row.lineReaderMs, 0)} (${fmt(row.lineReaderCpuMs, 0)})`, `${fmt(row.jsYamlMs, 0)} (${fmt(row.jsYamlCpuMs, 0)})`, `${fmt(row.jsYamlMs / row.lineReaderMs, 1)}×`, fmt(row.checksMs, 0), fmt(row.inspectMs, 0)]],
    );
    return row;
  } finally {
    project.remove();
  }
}

export async function run({ sizes = [1_000, 10_000], smoke = false, bigOnly = false } = {}) {
  if (bigOnly) return [await big({ smoke })];
  const rows = [];
  for (const size of sizes) {
    const files = { "jobs.yaml": manifestOf(size) };
    for (let h = 0; h < 100; h++) files[`jobs/h${h}.ts`] = `export default async () => ${h};\n`;
    const project = tempProject(files);
    try {
      const file = project.path("jobs.yaml");
      const text = readFileSync(file, "utf8");
      const load = timed(5, () => {
        if (loadManifest(file).jobs.length !== size) throw new Error(`expected ${size} jobs`);
      });
      // The two readers, one after the other: the yaml reader once after its warm-up (~2 s a parse
      // at 10,000 jobs here, and only the ratio is read from it).
      const plain = timed(3, () => readPlainYaml(text));
      const positioned = timed(1, () => parsePositioned("jobs.yaml", text));
      const start = performance.now();
      const child = spawnSync(process.execPath, [cli, "validate"], { cwd: project.dir, encoding: "utf8" });
      const cliMs = performance.now() - start;
      if (child.status !== 0) throw new Error(`runlet validate exited ${child.status}: ${child.stderr}`);
      rows.push({ jobs: size, bestMs: load.best, medianMs: load.median, plainMs: plain.best, yamlMs: positioned.best, parserRatio: positioned.best / plain.best, cliMs });
    } finally {
      project.remove();
    }
  }
  printTable(
    "Manifest validation (parse + schema + semantic checks + normalize)",
    ["jobs", "best ms", "median ms", "target", "fast read ms (line reader, else js-yaml)", "yaml parse ms", "yaml / fast read", "`runlet validate` ms (fresh process, compiles handlers)"],
    rows.map((r) => [r.jobs, fmt(r.bestMs, 0), fmt(r.medianMs, 0), r.jobs === 10_000 ? "< 1000 ms" : "", fmt(r.plainMs, 0), fmt(r.yamlMs, 0), `${fmt(r.parserRatio, 1)}×`, fmt(r.cliMs, 0)]),
  );
  rows.push(await big({ smoke }));
  return rows;
}

if (process.argv[1]?.endsWith("validate.mjs") && import.meta.url === `file://${process.argv[1]}`) {
  const smoke = process.argv.includes("--smoke");
  await run({ smoke, bigOnly: process.argv.includes("--big-only"), ...(smoke ? { sizes: [1_000] } : {}) });
}
