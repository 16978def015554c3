import type { RunRecord } from "../contracts/index.js";
import { jobViews, type JobView } from "./job-views.js";
import type { RunnerView } from "./runner-view.js";

/** Runs per job the dashboard shows (its chart and its runs), as the page keeps them. */
const RUNS_SHOWN = 20;

/** What the dashboard shows first: every job, each one's recent runs, and the manifest warnings of /readyz. */
export interface FirstState {
  jobs: JobView[];
  runs: Record<string, RunRecord[]>;
  warnings: string[];
}

/**
 * Jobs up to which the page comes with its first state. Each job costs a history read per
 * page load and a row of HTML; a manifest of a million jobs gets the bare page, which its
 * script fills from the API as it did before.
 */
export const FIRST_STATE_MAX_JOBS = 500;

/** The first state, or null for a manifest with more jobs than {@link FIRST_STATE_MAX_JOBS}. */
export async function firstState(runner: RunnerView, now = new Date()): Promise<FirstState | null> {
  if (runner.jobs.length > FIRST_STATE_MAX_JOBS) return null;
  const jobs = await jobViews(runner, now);
  const histories = await Promise.all(jobs.map((job) => runner.store.history({ job: job.name, limit: RUNS_SHOWN })));
  const runs: Record<string, RunRecord[]> = {};
  jobs.forEach((job, i) => (runs[job.name] = histories[i]!));
  const { warnings = [] } = await runner.isReady();
  return { jobs, runs, warnings };
}

/**
 * The dashboard page with its first state in the HTML itself: the job table, the summary
 * and the warnings rendered on the server (a plain screenshot or `curl` shows them, with no
 * script and no request after the page), and the same state as JSON for the page's script,
 * which takes over from it without asking the API again. The markup is the script's own
 * (same classes), with every text from jobs and runs escaped.
 */
export function withFirstState(page: string, state: FirstState, now = Date.now()): string {
  const rows = state.jobs.map((job) => jobRow(job, state.runs[job.name] ?? [], now)).join("");
  // `<` escaped: no text in the JSON can close the script element that holds it.
  const json = JSON.stringify(state).replace(/</g, "\\u003c");
  // Replaced by functions: a replacement string would read `$'`, `$&` in job text as patterns.
  return page
    .replace('<div class="summary" id="summary">loading…</div>', () => `<div class="summary" id="summary">${summary(state)}</div>`)
    .replace('<div class="warning" id="warning" role="alert" hidden></div>', () => `<div class="warning" id="warning" role="alert"${state.warnings.length ? "" : " hidden"}>${esc(state.warnings.join("\n"))}</div>`)
    .replace('<tbody id="job-rows"></tbody>', () => `<tbody id="job-rows">${rows}</tbody>`)
    .replace('<div class="empty" id="empty" hidden>', () => `<div class="empty" id="empty"${state.jobs.length ? " hidden" : ""}>`)
    .replace("<script>", () => `<script type="application/json" id="first-state">${json}</script>\n<script>`);
}

function summary(state: FirstState): string {
  const n = state.jobs.length;
  const running = state.jobs.filter((j) => (state.runs[j.name] ?? []).some((r) => r.status === "running")).length;
  const paused = state.jobs.filter((j) => j.paused).length;
  const failing = state.jobs.filter((j) => ["failed", "timeout", "lost"].includes(j.lastStatus ?? "")).length;
  let text = `<b>${n}</b>${n === 1 ? " job" : " jobs"}`;
  if (running) text += ` · <b>${running}</b> running`;
  if (paused) text += ` · <b>${paused}</b> paused`;
  if (failing) text += ` · <b class="bad">${failing}</b> failing`;
  return text;
}

function jobRow(job: JobView, runs: RunRecord[], now: number): string {
  const source = scheduleText(job.schedule);
  const last = runs[0] ?? job.lastRun;
  return `<tr class="job${job.paused ? " is-paused" : ""}" data-job="${esc(job.name)}">`
    + `<td class="c-job"><button class="name" aria-expanded="false" title="Show recent runs"><span class="chev" aria-hidden="true">▶</span>${esc(job.name)}</button>`
    + `${job.paused ? ` ${badge("paused", "Paused: scheduled fires are skipped until resumed")}` : ""}${job.description ? `<div class="desc">${esc(job.description)}</div>` : ""}</td>`
    + `<td class="c-sched" data-label="Schedule"><div class="human">${esc(job.human || source || "Invoked by hand only")}</div>${source ? `<code class="code">${esc(source)}</code>` : ""}`
    + `${job.timezone && !(job.human || "").includes(job.timezone) ? `<span class="sub">${esc(job.timezone)}</span>` : ""}</td>`
    + `<td class="c-mode" data-label="Mode"><span class="pill">${esc(job.mode)}</span></td>`
    + `<td class="c-next" data-label="Next fire">${nextCell(job, now)}</td>`
    + `<td class="c-last" data-label="Last run">${last ? lastCell(last, now) : `<span class="sub">never run</span>`}</td>`
    + `<td class="c-chart" data-label="Recent runs">${chart(runs, now)}</td>`
    + `<td class="c-actions"><div class="actions"><button class="act primary" data-action="invoke">Invoke</button><button class="act" data-action="${job.paused ? "resume" : "pause"}">${job.paused ? "Resume" : "Pause"}</button></div></td></tr>`;
}

function nextCell(job: JobView, now: number): string {
  if (!job.enabled) return `<span class="sub">disabled in this environment</span>`;
  if (job.paused) return `<span class="sub">paused</span>`;
  const next = job.next[0];
  if (!next) return `<span class="sub">${esc(job.afterText ?? (job.schedule === null ? "by hand" : "no fire left"))}</span>`;
  return `${when(next, now)}<span class="sub">${esc(utc(next))}</span>`;
}

function lastCell(last: RunRecord, now: number): string {
  const ms = durationOf(last);
  return `${badge(last.status, last.reason || last.error?.message)}<span class="sub">${when(last.startedAt ?? last.scheduledAt, now)}${ms === null ? "" : ` · ${esc(fmtDuration(ms))}`}</span>`;
}

/** The recent runs' durations as bars, as the page's script draws them. */
function chart(runs: RunRecord[], now: number): string {
  const shown = runs.slice(0, RUNS_SHOWN).reverse();
  if (shown.length === 0) return `<span class="nodata">no runs yet</span>`;
  const W = 150, H = 32, gap = 2, slot = W / RUNS_SHOWN, bar = slot - gap;
  const lengths = shown.map((r) => (r.status === "running" && r.startedAt ? now - Date.parse(r.startedAt) : durationOf(r)));
  const max = Math.max(1, ...lengths.filter((v): v is number => v !== null));
  const bars = shown.map((run, i) => {
    const ms = lengths[i]!;
    const h = ms === null ? 3 : Math.max(3, Math.round((ms / max) * (H - 2)));
    const x = W - (shown.length - i) * slot;
    const label = `${run.status} · ${ms === null ? "did not run" : fmtDuration(ms)} · ${utc(run.startedAt ?? run.scheduledAt)}`;
    return `<rect class="s-${esc(run.status)}" x="${x.toFixed(2)}" y="${H - h}" width="${bar.toFixed(2)}" height="${h}" rx="1.5"><title>${esc(label)}</title></rect>`;
  });
  return `<svg class="spark" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="Durations of the last ${shown.length} runs"><line x1="0" y1="${H - 0.5}" x2="${W}" y2="${H - 0.5}"></line>${bars.join("")}</svg>`;
}

function badge(status: string, title: string | null | undefined): string {
  return `<span class="badge s-${esc(status)}"${title ? ` title="${esc(title)}"` : ""}>${esc(status)}</span>`;
}

function when(iso: string, now: number): string {
  return `<span class="when rel" data-at="${esc(iso)}" title="${esc(utc(iso))}">${esc(fmtRelative(iso, now))}</span>`;
}

function durationOf(run: RunRecord): number | null {
  return run.startedAt && run.finishedAt ? Date.parse(run.finishedAt) - Date.parse(run.startedAt) : null;
}

/** The server does not know the reader's zone: UTC, said so (the script shows local times once it runs). */
function utc(iso: string): string {
  return `${iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "")} UTC`;
}

function fmtDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return m < 60 ? `${m} min ${Math.round((ms % 60000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function fmtRelative(iso: string, now: number): string {
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  if (abs < 1000) return diff >= 0 ? "now" : "just now";
  const text = abs < 60000 ? `${Math.round(abs / 1000)} s` : abs < 3600000 ? `${Math.round(abs / 60000)} min` : abs < 86400000 ? `${Math.round(abs / 3600000)} h` : `${Math.round(abs / 86400000)} d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** A schedule as written in jobs.yaml (flow style), as the page's script writes it. */
function scheduleText(source: unknown): string | null {
  if (source === null || source === undefined) return null;
  if (typeof source === "string") return source;
  const flow = (v: unknown): string => {
    if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
    if (v && typeof v === "object") return `{ ${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(", ")} }`;
    return typeof v === "string" && !/^[\w.:+\-/]+$/.test(v) ? JSON.stringify(v) : String(v);
  };
  return flow(source);
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
