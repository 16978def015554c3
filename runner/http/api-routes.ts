import type { IncomingMessage } from "node:http";
import type { Logger } from "../log/logger.js";
import { HttpError, sendJson } from "./http-error.js";
import { emptyBody, invokeBody, readJsonBody } from "./json-body.js";
import type { Route } from "./router.js";
import type { RunnerView } from "./runner-view.js";
import { jobViews } from "./job-views.js";

export type { JobView } from "./job-views.js";

export interface ApiOptions {
  runner: RunnerView;
  logger: Logger;
  /** Throws unless the request may change state (see auth.ts). */
  requireToken: (req: IncomingMessage) => void;
  maxBodyBytes: number;
}

const RUNS_LIMIT = { default: 20, max: 1000 };

/**
 * The JSON API. `POST .../invoke` answers 200 with the run's final record whatever the
 * run's outcome: the request did what it asked (ran the job), and the record's `status`
 * (`ok`, `failed`, `timeout`, ...) and `error` say how the run went. HTTP errors are kept
 * for requests that did not run the job (unknown job, bad token, bad body).
 */
export function apiRoutes({ runner, logger, requireToken, maxBodyBytes }: ApiOptions): Route[] {
  const limits = { maxBytes: maxBodyBytes };
  const knownJob = (name: string) => {
    if (!runner.jobs.some((j) => j.name === name)) {
      throw new HttpError(404, "JOB_UNKNOWN", `no job named "${name}" (jobs: ${runner.jobs.map((j) => j.name).join(", ") || "none"})`);
    }
  };
  const setPaused = (paused: boolean): Route["handle"] => async ({ req, res, params }) => {
    requireToken(req);
    await readJsonBody(req, emptyBody, limits);
    await runner.setPaused(params.name!, paused);
    logger.info({ job: params.name, paused }, paused ? "job paused over HTTP" : "job resumed over HTTP");
    sendJson(res, 200, { job: params.name, paused: runner.isPaused(params.name!) });
  };

  return [
    {
      method: "GET",
      path: "/api/jobs",
      async handle({ res }) {
        const jobs = await jobViews(runner);
        sendJson(res, 200, jobs);
      },
    },
    {
      method: "GET",
      path: "/api/jobs/:name/runs",
      async handle({ res, url, params }) {
        knownJob(params.name!);
        const limit = parseLimit(url.searchParams.get("limit"));
        sendJson(res, 200, await runner.store.history({ job: params.name!, limit }));
      },
    },
    {
      method: "POST",
      path: "/api/jobs/:name/invoke",
      async handle({ req, res, params }) {
        requireToken(req);
        const body = await readJsonBody(req, invokeBody, limits);
        const record = await runner.invoke(params.name!, body.params);
        logger.info({ job: record.job, runId: record.runId, status: record.status }, "job invoked over HTTP");
        sendJson(res, 200, record);
      },
    },
    { method: "POST", path: "/api/jobs/:name/pause", handle: setPaused(true) },
    { method: "POST", path: "/api/jobs/:name/resume", handle: setPaused(false) },
  ];
}

function parseLimit(text: string | null): number {
  if (text === null) return RUNS_LIMIT.default;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= RUNS_LIMIT.max)) {
    throw new HttpError(400, "INVALID_QUERY", `limit must be a whole number from 1 to ${RUNS_LIMIT.max} (got "${text}")`);
  }
  return n;
}
