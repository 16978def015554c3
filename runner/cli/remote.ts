import { RunletError } from "../errors.js";
import type { FlagSpecs } from "./args.js";

/** How a command reaches a running runner's HTTP server. */
export const REMOTE_FLAGS = {
  url: { type: "string", description: "the running runner's HTTP address, e.g. http://127.0.0.1:8080 (RUNLET_URL)" },
  token: { type: "string", description: "its token, for pause, resume and trigger (RUNLET_TOKEN)" },
} as const satisfies FlagSpecs;

export interface Remote {
  url: string;
  token: string | undefined;
}

/** `--url`, else RUNLET_URL; null when neither is set. */
export function remoteOf(flags: { url?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): Remote | null {
  const raw = flags.url || env.RUNLET_URL;
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new RunletError("BAD_INPUT", `${flags.url ? "--url" : "RUNLET_URL"} must be an http:// address like http://127.0.0.1:8080 (got "${raw}")`, { cause: err });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new RunletError("BAD_INPUT", `${flags.url ? "--url" : "RUNLET_URL"} must be an http:// or https:// address (got "${raw}")`);
  return { url: url.origin, token: flags.token || env.RUNLET_TOKEN || undefined };
}

export function requireRemote(flags: { url?: string; token?: string }, command: string): Remote {
  const remote = remoteOf(flags);
  if (!remote) {
    throw new RunletError("BAD_INPUT", `${command} acts on a running runner: pass --url http://HOST:PORT (or set RUNLET_URL) of a \`runlet start --port N\``);
  }
  return remote;
}

/**
 * One request to the runner's API; resolves with its JSON. A refused connection and an
 * HTTP error are RunletErrors saying which runner and what it answered: JOB_UNKNOWN for an
 * unknown job, BAD_INPUT for the rest (exit 2).
 */
export async function callRunner<T>(remote: Remote, method: "GET" | "POST", path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${remote.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...(remote.token ? { authorization: `Bearer ${remote.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new RunletError("BAD_INPUT", `cannot reach the runner at ${remote.url}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is \`runlet start --port N\` running there?)`, { cause: err });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch (err) {
    throw new RunletError("BAD_INPUT", `the runner at ${remote.url} answered ${method} ${path} with ${res.status} and a body that is not JSON: ${text.slice(0, 200)}`, { cause: err });
  }
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    const code = error?.code === "JOB_UNKNOWN" ? "JOB_UNKNOWN" : "BAD_INPUT";
    throw new RunletError(code, `the runner at ${remote.url} refused ${method} ${path}: ${res.status} ${error?.code ?? ""} ${error?.message ?? text}`.replace(/\s+/g, " ").trim());
  }
  return json as T;
}
