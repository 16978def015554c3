// Endurance: 1,000 jobs firing every second for N minutes, a third in worker threads, with
// random faults (throws, timeouts, process.exit and a busy loop in a thread) and a handler
// edit every 10 s under `watch: true`. Every minute: fires expected vs started, outcomes,
// RSS and heap (after a GC); at the end the handles left open after stop().
//   npm run soak -- --minutes N [--store sqlite|memory]
// Targets (the issue, over 10 minutes): no missed fire; RSS growth under 10% after the first minute.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { dist, fmt, machine, printTable, tempProject } from "./lib.mjs";

const { createRunner } = await import(dist("runner/index.js"));
const { openStore } = await import(dist("runner/store/index.js"));
const { silentLogger } = await import(dist("runner/log/logger.js"));

// A GC before each memory sample, so growth is what stays alive, not garbage not yet collected.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");

const JOBS = 1000;
const HANDLERS = 10;
const EDIT_EVERY_MS = 10_000;
const isThread = (h) => h % 3 === 2;

/** Fault odds per run: a throw, a (cooperative) timeout; in a thread also process.exit and a loop that ignores its signal. */
function handler(h, version) {
  const thread = isThread(h);
  return `// version ${version}
export default async (ctx) => {
  const r = Math.random();
  if (r < 0.01) throw new Error("random fault in handler ${h}");
  if (r < 0.012) await new Promise((resolve) => { const t = setTimeout(resolve, 5000); ctx.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }); });
  ${thread ? `if (r < 0.0125) process.exit(3);
  if (r < 0.0126) { const end = Date.now() + 3000; while (Date.now() < end); }` : ""}
  return { handler: ${h}, version: ${version} };
};
`;
}

function manifest() {
  const lines = ["version: 1", "defaults:", "  timeout: 500ms", "jobs:"];
  for (let i = 0; i < JOBS; i++) {
    const h = i % HANDLERS;
    lines.push(`  j${i}: { handler: jobs/h${h}.ts, schedule: "* * * * * *", mode: ${isThread(h) ? "thread" : "inline"} }`);
  }
  return `${lines.join("\n")}\n`;
}

const bucket = () => ({ started: 0, ok: 0, failed: 0, timeout: 0, cancelled: 0, overlap: 0, late: 0, otherSkip: 0 });

export async function run({ minutes = 2, store: storeKind = "sqlite" } = {}) {
  const files = { "jobs.yaml": manifest() };
  for (let h = 0; h < HANDLERS; h++) files[`jobs/h${h}.ts`] = handler(h, 0);
  const project = tempProject(files);
  const store = await openStore(storeKind === "memory" ? "memory" : undefined, { manifestDir: project.dir, logger: silentLogger() });
  const runner = createRunner({ manifest: project.path("jobs.yaml"), env: "soak", watch: true, store });
  // Per minute of scheduled time (minute 0 starts at the first whole second after start).
  const minutesOf = new Map();
  let t0 = 0;
  const minuteOf = (iso) => Math.floor((Date.parse(iso) - t0) / 60_000);
  runner.on("record", (r) => {
    if (!t0 || Date.parse(r.scheduledAt) < t0) return;
    const m = minuteOf(r.scheduledAt);
    if (!minutesOf.has(m)) minutesOf.set(m, bucket());
    const b = minutesOf.get(m);
    if (r.status === "running") b.started += r.attempt === 1 ? 1 : 0;
    else if (r.status === "skipped") b[r.reason === "overlap" ? "overlap" : r.reason === "late" ? "late" : "otherSkip"]++;
    else if (r.status in b) b[r.status]++;
  });
  const reloads = { ok: 0, failed: 0 };
  runner.on("reload", (r) => reloads[r.ok ? "ok" : "failed"]++);

  await runner.start();
  t0 = Math.ceil(Date.now() / 1000) * 1000;
  console.log(`soak: ${JOBS} jobs every second for ${minutes} min, ${HANDLERS} handlers (${[...Array(HANDLERS).keys()].filter(isThread).length} thread), store ${storeKind}, ${machine()}`);

  let version = 0;
  const editor = setInterval(() => {
    version++;
    project.write(`jobs/h${version % HANDLERS}.ts`, handler(version % HANDLERS, version));
  }, EDIT_EVERY_MS);
  const samples = [];
  for (let m = 1; m <= minutes; m++) {
    await new Promise((r) => setTimeout(r, t0 + m * 60_000 - Date.now()));
    gc();
    const { rss, heapUsed } = process.memoryUsage();
    samples.push({ minute: m, rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 });
    console.log(`minute ${m}: RSS ${fmt(rss / 2 ** 20, 1)} MB, heap ${fmt(heapUsed / 2 ** 20, 1)} MB, in flight ${runner.inFlight}`);
  }
  clearInterval(editor);
  // Let the last minute's runs end (timeouts are 500 ms; a busy thread is terminated after ~3 s).
  await new Promise((r) => setTimeout(r, 4000));
  await runner.stop();
  project.remove();
  const openHandles = () => process.getActiveResourcesInfo().reduce((acc, type) => ({ ...acc, [type]: (acc[type] ?? 0) + 1 }), {});
  // Right after stop(), and 5 s later: what is still there then was left behind, not winding down.
  const handles = { atStop: openHandles() };
  await new Promise((r) => setTimeout(r, 5000));
  handles.after5s = openHandles();

  const rows = samples.map(({ minute, rssMb, heapMb }) => {
    const b = minutesOf.get(minute - 1) ?? bucket();
    const expected = JOBS * 60;
    return { minute, expected, ...b, missed: expected - b.started - b.overlap, rssMb, heapMb };
  });
  printTable(
    "Soak, per minute of scheduled time (missed = expected − started − skipped for overlap; a late skip is a miss)",
    ["minute", "expected", "started", "ok", "failed", "timeout", "skip overlap", "skip late", "missed", "RSS MB", "heap MB"],
    rows.map((r) => [r.minute, r.expected, r.started, r.ok, r.failed, r.timeout, r.overlap, r.late, r.missed, fmt(r.rssMb, 1), fmt(r.heapMb, 1)]),
  );
  const first = samples[0];
  const last = samples[samples.length - 1];
  const growth = samples.length > 1 ? (last.rssMb - first.rssMb) / first.rssMb : NaN;
  const missed = rows.reduce((s, r) => s + r.missed, 0);
  console.log(`reloads: ${reloads.ok} applied, ${reloads.failed} refused; handler edits: ${version}`);
  console.log(`missed fires: ${missed} (target 0); RSS growth minute 1 → ${last.minute}: ${fmt(growth * 100, 1)}% (target < 10%)`);
  console.log(`open handles right after stop(): ${JSON.stringify(handles.atStop)}; 5 s later: ${JSON.stringify(handles.after5s)} (stdout/stderr pipes are expected)`);
  return { rows, reloads, edits: version, missed, rssGrowth: growth, handles };
}

if (process.argv[1]?.endsWith("soak.mjs")) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await run({ minutes: Number(arg("--minutes") ?? 2), store: arg("--store") ?? "sqlite" });
  process.exit(0);
}
