import { RunletError } from "../errors.js";
import type { AbortSource, RunRequest } from "../contracts/index.js";

/** The request's abort as an AbortSource: `aborts` when given, else its signal. */
export function abortsOf(req: RunRequest): AbortSource {
  if (req.aborts) return req.aborts;
  const { signal } = req;
  return {
    get aborted() {
      return signal.aborted;
    },
    get reason() {
      return signal.reason as unknown;
    },
    subscribe(listener) {
      signal.addEventListener("abort", listener, { once: true });
    },
    unsubscribe(listener) {
      signal.removeEventListener("abort", listener);
    },
  };
}

/** A run whose signal aborted before it started is not started at all (either mode). */
export function notStarted(req: RunRequest): RunletError {
  const why = abortsOf(req).reason;
  const reason = why instanceof Error ? why.message : String(why);
  return new RunletError("JOB_CANCELLED", `job "${req.job}" was not started: its signal had already aborted (${reason})`, { cause: why });
}
