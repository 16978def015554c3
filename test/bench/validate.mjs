// Issue: validating a 10,000-job manifest takes under 1 s. Prints the figure for 1k and 10k jobs.
import { dist, fmt, printTable, tempProject } from "./lib.mjs";

const { loadManifest } = await import(dist("runner/manifest/index.js"));

export function manifestOf(jobs, handlers = 100) {
  const lines = ["version: 1", "defaults:", "  timezone: UTC", "jobs:"];
  for (let i = 0; i < jobs; i++) {
    lines.push(`  job-${i}:`, `    handler: jobs/h${i % handlers}.ts`, `    schedule: "${i % 60} ${i % 7} * * * *"`, `    params: { n: ${i} }`, `    timeout: 30s`, `    retries: { max: 2, backoff: exponential, delay: 1s }`);
  }
  return `${lines.join("\n")}\n`;
}

export async function run({ sizes = [1_000, 10_000] } = {}) {
  const rows = [];
  for (const size of sizes) {
    const files = { "jobs.yaml": manifestOf(size) };
    for (let h = 0; h < 100; h++) files[`jobs/h${h}.ts`] = `export default async () => ${h};\n`;
    const project = tempProject(files);
    try {
      loadManifest(project.path("jobs.yaml")); // warm the schema compile and caches
      const times = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        const manifest = loadManifest(project.path("jobs.yaml"));
        times.push(performance.now() - t);
        if (manifest.jobs.length !== size) throw new Error(`expected ${size} jobs`);
      }
      rows.push({ jobs: size, bestMs: Math.min(...times), medianMs: times.sort((a, b) => a - b)[1] });
    } finally {
      project.remove();
    }
  }
  printTable("Manifest validation (parse + schema + semantic checks + normalize)", ["jobs", "best ms", "median ms", "target"], rows.map((r) => [r.jobs, fmt(r.bestMs, 0), fmt(r.medianMs, 0), r.jobs === 10_000 ? "< 1000 ms" : ""]));
  return rows;
}

if (process.argv[1]?.endsWith("validate.mjs") && import.meta.url === `file://${process.argv[1]}`) await run();
