import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { JobDefinition, RunLogs, RunRecord } from "../contracts/index.js";
import { HttpError } from "./http-error.js";
import { attemptsOf } from "./run-routes.js";
import type { Route } from "./router.js";
import type { RunnerView } from "./runner-view.js";

const STYLE = `
:root { --bg:#f6f8fa; --panel:#fff; --text:#1f2328; --muted:#59636e; --line:#d8dee4; --accent:#0969da; --ok:#1a7f37; --failed:#cf222e; --running:#0969da;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --bg:#0d1117; --panel:#151b23; --text:#e6edf3; --muted:#9198a1; --line:#30363d; --accent:#4493f8; --ok:#3fb950; --failed:#f85149; --running:#4493f8; } }
body { margin:0; background:var(--bg); color:var(--text); font-size:14px; line-height:1.45; }
main { max-width:1100px; margin:0 auto; padding:20px 24px 64px; }
a { color:var(--accent); }
h1 { font:600 20px var(--mono); margin:8px 0 4px; }
.status { display:inline-block; padding:1px 10px; border-radius:999px; font-weight:600; border:1px solid currentColor; }
.s-ok { color:var(--ok); } .s-failed, .s-timeout, .s-lost { color:var(--failed); } .s-running { color:var(--running); }
dl { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; background:var(--panel); border:1px solid var(--line); border-radius:10px; padding:14px; }
dt { color:var(--muted); } dd { margin:0; font-family:var(--mono); overflow-wrap:anywhere; }
section { margin-top:20px; } h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0 0 6px; }
pre { margin:0; padding:12px; background:var(--panel); border:1px solid var(--line); border-radius:10px; overflow:auto; font:12px var(--mono); white-space:pre-wrap; }
pre.stack { color:var(--failed); }
table { width:100%; border-collapse:collapse; background:var(--panel); border:1px solid var(--line); border-radius:10px; font:12px var(--mono); }
td, th { padding:4px 8px; border-top:1px solid var(--line); text-align:left; vertical-align:top; overflow-wrap:anywhere; }
.l-warn { color:#bc4c00; } .l-error, .l-fatal { color:var(--failed); } .l-debug, .l-trace { color:var(--muted); }
.muted { color:var(--muted); }
.err { color:var(--failed); } ol.attempts { margin:0; padding:10px 14px 10px 34px; background:var(--panel); border:1px solid var(--line); border-radius:10px; font:12px var(--mono); } ol.attempts li { margin:3px 0; }`;

/** Follows a running run (its lines and final record) over the event stream; renders a page shell's data when reads need the token. */
const SCRIPT = `"use strict";
let main = document.getElementById("run");
const token = sessionStorage.getItem("runlet.token");
const headers = token ? { authorization: "Bearer " + token } : {};
async function load() {
  const res = await fetch(location.pathname + "?part=body", { headers, cache: "no-store" });
  const t = document.createElement("template");
  t.innerHTML = res.ok ? await res.text() : '<main id="run"><p>This runlet server needs its token to show runs: open the dashboard, act once to give it, and come back.</p></main>';
  main.replaceWith(t.content);
  main = document.getElementById("run");
}
async function follow() {
  const runId = main.dataset.run;
  const body = document.getElementById("log-lines");
  const res = await fetch("/api/events?run=" + encodeURIComponent(runId), { headers, cache: "no-store" });
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let seen = Number(main.dataset.lines || "0");
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    for (let end = buffer.indexOf("\\n\\n"); end >= 0; end = buffer.indexOf("\\n\\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = (block.match(/^event: (.*)$/m) || [])[1];
      const data = (block.match(/^data: (.*)$/m) || [])[1];
      if (event === "log") {
        const line = JSON.parse(data);
        if (line.seq < seen) continue;
        seen = line.seq + 1;
        const tr = document.createElement("tr");
        tr.className = "l-" + line.level;
        for (const text of [line.time, line.level, line.attempt, line.msg + (line.fields ? " " + JSON.stringify(line.fields) : "")]) {
          const td = document.createElement("td");
          td.textContent = String(text);
          tr.append(td);
        }
        body.append(tr);
      } else if (event === "record" && JSON.parse(data).status !== "running") {
        location.reload();
        return;
      }
    }
  }
}
(async () => {
  if (main.dataset.load) await load();
  if (main.dataset.status === "running") await follow();
})();`;

const hash = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export interface RunPageOptions {
  runner: RunnerView;
  /** Whether a read needs the token (a server bound off loopback, with one): then the page's data is fetched with it. */
  readsNeedToken: boolean;
  requireToken: (req: IncomingMessage) => void;
}

/**
 * `GET /runs/:runId`: a run's detail page, rendered on the server (a plain screenshot or
 * `curl` shows it whole); while the run goes on, a small script appends its lines live.
 * Everything from the run (messages, fields, errors, results) is escaped text.
 */
export function runPageRoute({ runner, readsNeedToken, requireToken }: RunPageOptions): Route {
  return {
    method: "GET",
    path: "/runs/:runId",
    async handle({ req, res, url, params }) {
      const part = url.searchParams.get("part") === "body";
      if (readsNeedToken && !part) {
        send(res, page(`<main id="run" data-load="1"><p class="muted">loading…</p></main>`));
        return;
      }
      if (readsNeedToken) requireToken(req);
      const run = await runner.store.findRun(params.runId!);
      if (!run) throw new HttpError(404, "RUN_UNKNOWN", `no run with id "${params.runId}" in the store (it may have been trimmed from history)`);
      const live = runner.liveLogs(run.runId);
      const logs = live ?? (await runner.store.runLogs(run.runId));
      const def = runner.jobs.find((j) => j.name === run.job);
      const html = body(run, logs, def);
      send(res, part ? html : page(html));
    },
  };
}

function send(res: import("node:http").ServerResponse, html: string): void {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": CSP, "x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "cache-control": "no-store" });
  res.end(html);
}

function page(main: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark"><title>run — runlet</title><style>${STYLE}</style></head><body>${main}<script>${SCRIPT}</script></body></html>`;
}

function body(run: RunRecord, logs: RunLogs | null, def: JobDefinition | undefined): string {
  const lines = logs?.lines ?? [];
  const zone = def?.timezone ?? null;
  // An invoke, or a run started by another's end, was not scheduled: it has no lateness (as its "run started" line says).
  const lateness = run.startedAt && run.trigger !== "invoke" && run.trigger !== "after" ? `${Date.parse(run.startedAt) - Date.parse(run.scheduledAt)} ms` : "—";
  const duration = run.startedAt && run.finishedAt ? `${Date.parse(run.finishedAt) - Date.parse(run.startedAt)} ms` : run.status === "running" ? "running" : "—";
  // A timeline: each try's times (UTC), how long it took, how it ended and why.
  const attempts = attemptsOf(run, lines).map((a) => {
    const took = a.startedAt && a.finishedAt ? ` (${Date.parse(a.finishedAt) - Date.parse(a.startedAt)} ms)` : "";
    const span = a.startedAt ? ` · ${esc(a.startedAt)} → ${a.finishedAt ? esc(a.finishedAt) : a.status === "running" ? "now" : "?"}${took}` : a.status === "lost" ? " · times not kept (another replica ran it)" : "";
    const status = a.status === "retried" ? "failed, retried" : a.status === "lost" ? "lost with its replica, retried" : a.status;
    const why = a.error ? ` · <span class="err">${esc(a.error.code ? `${a.error.code}: ${a.error.message}` : a.error.message)}</span>` : "";
    return `<li data-attempt="${a.attempt}"><b class="s-${esc(a.status === "retried" ? "failed" : a.status)}">attempt ${a.attempt}: ${esc(status)}</b>${span}${why} · ${a.lines} line${a.lines === 1 ? "" : "s"}${a.firstLineAt ? `, first at ${esc(a.firstLineAt)}` : ""}</li>`;
  }).join("");
  const rows = lines
    .map((l) => `<tr class="l-${esc(l.level)}"><td>${esc(l.time)}</td><td>${esc(l.level)}</td><td>${l.attempt}</td><td>${esc(l.msg)}${l.fields ? ` ${esc(JSON.stringify(l.fields))}` : ""}</td></tr>`)
    .join("");
  const error = run.error
    ? `<section><h2>Error</h2><pre class="stack" id="error">${esc(run.error.code ? `${run.error.code}: ` : "")}${esc(run.error.stack ?? run.error.message)}</pre></section>`
    : "";
  return `<main id="run" data-run="${esc(run.runId)}" data-status="${esc(run.status)}" data-lines="${(logs?.dropped ?? 0) + lines.length}">
<p><a href="/">← all jobs</a></p>
<h1>${esc(run.job)}</h1>
<p><span class="status s-${esc(run.status)}" id="status">${esc(run.status)}</span>${run.reason ? ` <span class="muted">(${esc(run.reason)})</span>` : ""}</p>
<dl>
<dt>Run id</dt><dd id="run-id">${esc(run.runId)}</dd>
<dt>Trigger</dt><dd id="trigger">${esc(run.trigger ?? "schedule")}${run.upstreamRunId ? ` · upstream run <a href="/runs/${encodeURIComponent(run.upstreamRunId)}">${esc(run.upstreamRunId)}</a>` : ""}</dd>
<dt>Scheduled</dt><dd>${when(run.scheduledAt, zone)}</dd>
<dt>Started</dt><dd>${when(run.startedAt, zone)}</dd>
<dt>Finished</dt><dd>${when(run.finishedAt, zone)}</dd>
<dt>Lateness</dt><dd>${esc(lateness)}</dd>
<dt>Duration</dt><dd>${esc(duration)}</dd>
<dt>Params</dt><dd id="params">${run.params === undefined ? `— <span class="muted">(not recorded: the run was kept before runlet recorded params)</span>` : esc(JSON.stringify(run.params))}</dd>
<dt>Result</dt><dd id="result">${esc(JSON.stringify(run.result))}</dd>
</dl>
<section><h2>Attempts</h2><ol class="attempts">${attempts}</ol></section>
${error}
<section><h2>Log${logs && logs.dropped > 0 ? ` <span class="muted">(${logs.dropped} earlier lines dropped)</span>` : ""}</h2>
<table id="log"><thead><tr><th>Time (UTC)</th><th>Level</th><th>Try</th><th>Message</th></tr></thead><tbody id="log-lines">${rows}</tbody></table>
${lines.length === 0 && run.status !== "running" ? `<p class="muted">This run kept no log lines.</p>` : ""}
</section>
</main>`;
}

/** An ISO time in UTC, with the job's zone beside it when it has one. */
function when(iso: string | null, zone: string | null): string {
  if (!iso) return "—";
  const utc = `${iso.replace("T", " ").replace("Z", "")} UTC`;
  if (!zone || zone === "UTC") return esc(utc);
  const local = new Date(iso).toLocaleString("sv-SE", { timeZone: zone, hour12: false });
  return `${esc(utc)} <span class="muted">(${esc(local)} ${esc(zone)})</span>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
