import { sendJson } from "./http-error.js";
import type { Route } from "./router.js";
import type { RunMetrics } from "./run-metrics.js";
import type { RunnerView } from "./runner-view.js";

/** Probes and metrics: what an orchestrator and Prometheus read. None needs a token. */
export function opsRoutes(runner: RunnerView, metrics: RunMetrics): Route[] {
  return [
    {
      method: "GET",
      path: "/healthz",
      // Liveness: the process answers. Deliberately checks nothing else, so a store outage
      // makes the runner unready (readyz) without getting it restarted.
      handle: ({ res }) => sendJson(res, 200, { status: "ok" }),
    },
    {
      method: "GET",
      path: "/readyz",
      async handle({ res }) {
        const { ready, reasons, warnings = [] } = await runner.isReady();
        // Warnings (an older manifest running than the file on disk) never make it unready.
        if (ready) sendJson(res, 200, { status: "ready", reasons: [], warnings });
        else sendJson(res, 503, { status: "not ready", reasons, warnings, error: { code: "NOT_READY", message: `not ready: ${reasons.join("; ")}` } });
      },
    },
    {
      method: "GET",
      path: "/metrics",
      async handle({ res }) {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { "content-type": metrics.registry.contentType, "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
      },
    },
  ];
}
