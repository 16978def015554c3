import { RunletError } from "../errors.js";
import { isLoopback } from "./loopback.js";

export interface Exposure {
  /** The bind address. */
  host: string;
  /** The bearer token, if one is set. */
  token: string | undefined;
  /** Serve off loopback without a token anyway (`--insecure`). @default false */
  insecure?: boolean;
}

/**
 * Refuses to serve off loopback without a token: every `/api` route there needs one, so
 * without it the API would either be closed to all or (before) open to all. `--insecure`
 * is the explicit way to serve reads to the network with no token; routes that change
 * state stay refused then.
 */
export function checkExposure({ host, token, insecure = false }: Exposure): void {
  if (isLoopback(host) || token || insecure) return;
  throw new RunletError(
    "BAD_INPUT",
    `refusing to serve HTTP on ${host}, which is not loopback, without a token: set RUNLET_TOKEN (every /api route will need it), or pass --insecure to serve the API to the network with no token`,
  );
}
