/** The HTTP stage: probes, Prometheus metrics, the JSON API, live events and the dashboard. */
export { startHttpServer, httpDefaults, type HttpServer, type HttpServerOptions } from "./server.js";
export { checkExposure } from "./exposure.js";
export type { RunnerView, ReloadView } from "./runner-view.js";
export type { JobView } from "./api-routes.js";
export type { HttpErrorCode } from "./http-error.js";
