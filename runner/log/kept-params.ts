import type { LogPolicy, RunError } from "../contracts/index.js";
import { hideSecrets, redactorOf, secretsOf } from "./redaction.js";

/**
 * A run's params as its record keeps them: hidden as its log lines are (values the manifest
 * took from the environment as `${env:NAME}`, the job's `logs.redact` paths as
 * `"[Redacted]"`), and as JSON holds them (a bigint as its decimal string). What the
 * handler gets is not changed.
 *
 * Most runs are scheduled fires, whose params are their job's one object: its kept form
 * is made once per object and policy (a reload makes new ones), not once per run.
 */
export function keptParams(params: unknown, policy: LogPolicy): unknown {
  if (params === undefined || params === null) return null;
  if (typeof params !== "object") return typeof params === "string" ? hide(params, policy) : typeof params === "bigint" ? String(params) : params;
  const hit = cache.get(params);
  if (hit?.policy === policy) return hit.kept;
  const redact = Array.isArray(params) ? null : redactorOf(policy.redact);
  const kept = hide(redact ? redact(params) : params, policy);
  cache.set(params, { policy, kept });
  return kept;
}

const cache = new WeakMap<object, { policy: LogPolicy; kept: unknown }>();

function hide(value: unknown, policy: LogPolicy): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? String(v) : v));
  } catch (err) {
    return { unserializable: true, message: (err as Error).message };
  }
  if (text === undefined) return null;
  const secrets = secretsOf(policy.secrets);
  return secrets.length === 0 ? JSON.parse(text) : JSON.parse(hideSecrets(text, secrets));
}

/**
 * A run's error as its record and the runner's log keep it: a value the manifest took from
 * the environment, quoted in the message or stack (a URL with its token in a fetch error),
 * reads `${env:NAME}`. The same error object when the job has no such values.
 */
export function keptError(error: RunError, policy: LogPolicy): RunError {
  const secrets = secretsOf(policy.secrets);
  if (secrets.length === 0) return error;
  const kept: RunError = { ...error, message: hideInString(error.message, secrets) };
  if (error.stack !== undefined) kept.stack = hideInString(error.stack, secrets);
  return kept;
}

function hideInString(text: string, secrets: ReturnType<typeof secretsOf>): string {
  return JSON.parse(hideSecrets(JSON.stringify(text), secrets)) as string;
}
