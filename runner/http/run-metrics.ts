import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RunRecord } from "../contracts/index.js";
import type { ReloadView, RunnerView } from "./runner-view.js";

/** Run durations: from a 5 ms inline job to an hour-long batch. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Fire lateness: healthy is a few ms; the default `lateness` limit is 1 s. */
const LATENESS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

let processRegistry: Registry | undefined;

/**
 * Node's default process metrics, collected once per process. collectDefaultMetrics
 * starts a GC observer and an event-loop delay monitor each time it is called and never
 * stops them, so calling it per server would leak one of each per server started (tests
 * start dozens). The metrics describe the process anyway, so one collection serves all.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

export interface RunMetrics {
  /** This server's registry: the runner's metrics and Node's process metrics. */
  registry: Registry;
  /** Stops listening to the runner. */
  dispose(): void;
}

/**
 * Prometheus metrics fed from the runner's `record` and `reload` events. Each server has
 * its own registry (never prom-client's global one), so two runners in one process, or
 * tests starting server after server, do not collide on metric names.
 */
export function createRunMetrics(runner: RunnerView): RunMetrics {
  const own = new Registry();
  const registers = [own];
  const runs = new Counter({ name: "runlet_runs_total", help: "Runs that ended (and fires skipped), by job and final status.", labelNames: ["job", "status"], registers });
  const duration = new Histogram({ name: "runlet_run_duration_seconds", help: "Run duration from start to end, retries included, by job.", labelNames: ["job"], buckets: DURATION_BUCKETS, registers });
  const lateness = new Histogram({ name: "runlet_fire_lateness_seconds", help: "How long after its scheduled time a scheduled run started.", buckets: LATENESS_BUCKETS, registers });
  new Gauge({
    name: "runlet_runs_in_flight",
    help: "Runs in flight now.",
    registers,
    collect() {
      this.set(runner.inFlight);
    },
  });
  const lastSuccess = new Gauge({ name: "runlet_last_success_timestamp_seconds", help: "When each job last ended ok (Unix time).", labelNames: ["job"], registers });
  const reloads = new Counter({ name: "runlet_reloads_total", help: "Manifest reloads applied (ok) or refused (error).", labelNames: ["result"], registers });
  // Both series exist from the start, so rate() and alerts see a 0 before the first error.
  reloads.inc({ result: "ok" }, 0);
  reloads.inc({ result: "error" }, 0);

  const onRecord = (record: RunRecord) => {
    if (record.status === "running") {
      // A run reports `running` once per attempt; lateness is about the fire, so the first only.
      // Catch-up runs are late by design (the runner was down) and would drown the signal.
      if (record.attempt === 1 && record.trigger === "schedule" && record.startedAt) {
        lateness.observe(Math.max(0, Date.parse(record.startedAt) - Date.parse(record.scheduledAt)) / 1000);
      }
      return;
    }
    runs.inc({ job: record.job, status: record.status });
    if (record.startedAt && record.finishedAt) {
      duration.observe({ job: record.job }, Math.max(0, Date.parse(record.finishedAt) - Date.parse(record.startedAt)) / 1000);
    }
    if (record.status === "ok" && record.finishedAt) lastSuccess.set({ job: record.job }, Date.parse(record.finishedAt) / 1000);
  };
  const onReload = (result: ReloadView) => reloads.inc({ result: result.ok ? "ok" : "error" });
  const logLines = new Counter({ name: "runlet_run_log_lines_total", help: "ctx.log lines captured into their runs' kept logs, by job (later drops counted apart).", labelNames: ["job"], registers });
  const logDropped = new Counter({ name: "runlet_run_log_dropped_total", help: "ctx.log lines dropped from a run's kept log (beyond logs.keep or 256 KiB), by job.", labelNames: ["job"], registers });
  // Counted by job as lines are taken in, not by hearing each line: a listener of every line would make the runner copy each one.
  const onLog = (captured: { job: string; count: number }) => logLines.inc({ job: captured.job }, captured.count);
  const onLogDropped = (drop: { job: string; count: number }) => logDropped.inc({ job: drop.job }, drop.count);
  runner.on("record", onRecord);
  runner.on("reload", onReload);
  runner.on("log-captured", onLog);
  runner.on("log-dropped", onLogDropped);

  return {
    registry: Registry.merge([processMetrics(), own]),
    dispose() {
      runner.off("record", onRecord);
      runner.off("reload", onReload);
      runner.off("log-captured", onLog);
      runner.off("log-dropped", onLogDropped);
    },
  };
}
