// Issue: validating a 10,000-job manifest takes under 1 s. Prints the figure for 1k and 10k
// jobs, the two YAML readers side by side on the same text (js-yaml, which reads a manifest
// first, and `yaml`, which gives positions when a problem needs them), and `runlet
// validate` as a person runs it: a fresh process that also compiles the 100 handlers.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { loadManifest } = await import(dist("runner/manifest/index.js"));
const { readPlainYaml } = await import(dist("runner/manifest/plain-yaml.js"));
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

export async function run({ sizes = [1_000, 10_000] } = {}) {
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
    ["jobs", "best ms", "median ms", "target", "js-yaml parse ms", "yaml parse ms", "yaml / js-yaml", "`runlet validate` ms (fresh process, compiles handlers)"],
    rows.map((r) => [r.jobs, fmt(r.bestMs, 0), fmt(r.medianMs, 0), r.jobs === 10_000 ? "< 1000 ms" : "", fmt(r.plainMs, 0), fmt(r.yamlMs, 0), `${fmt(r.parserRatio, 1)}×`, fmt(r.cliMs, 0)]),
  );
  return rows;
}

if (process.argv[1]?.endsWith("validate.mjs") && import.meta.url === `file://${process.argv[1]}`) await run();
