import redactor from "@pinojs/redact";
import type { LogPolicy } from "../contracts/index.js";

/** Returns a redacted copy of an object (the original is left alone). */
export type Redact = (obj: object) => object;

/** One compiled redactor per `redact` list (a job definition's list lives until its reload). */
const redactors = new WeakMap<string[], Redact>();

/** The redactor of a job's `logs.redact` paths (values written `"[Redacted]"`); null for none. */
export function redactorOf(paths: string[]): Redact | null {
  if (paths.length === 0) return null;
  let redact = redactors.get(paths);
  if (!redact) {
    const compiled = redactor({ paths, serialize: false, censor: "[Redacted]", strict: false });
    redact = (obj) => {
      const out = compiled(obj) as Record<string, unknown>;
      // The redactor hangs a `restore` function on its copy; nothing that keeps it wants it.
      if (out !== obj) delete out.restore;
      return out;
    };
    redactors.set(paths, redact);
  }
  return redact;
}

/** A value taken from the environment as it appears inside JSON text, and what is kept in its place. */
export type EncodedSecret = { json: string; shown: string };

const NO_SECRETS: ReadonlyArray<EncodedSecret> = [];
const encoded = new WeakMap<object, ReadonlyArray<EncodedSecret>>();

/** A policy's secrets as they appear in JSON text, made once per policy (a reload makes new ones). */
export function secretsOf(secrets: LogPolicy["secrets"]): ReadonlyArray<EncodedSecret> {
  if (!secrets || secrets.length === 0) return NO_SECRETS;
  let found = encoded.get(secrets);
  if (!found) {
    // Longest first: a value inside another (a user name inside a URL with its password)
    // must not be replaced before the one that holds it, or the rest of that one stays in clear.
    found = secrets.map((s) => ({ json: JSON.stringify(s.value).slice(1, -1), shown: `\${env:${s.name}}` })).sort((a, b) => b.json.length - a.json.length);
    encoded.set(secrets, found);
  }
  return found;
}

/** A JSON string literal (keys are ones too). */
const STRING_LITERAL = /"(?:[^"\\]|\\.)*"/g;

/**
 * JSON text with every value taken from the environment replaced by its `${env:NAME}`
 * reference, inside its strings only: a value such as `1000` must not rewrite the number
 * 10000 into text that is no longer JSON.
 */
export function hideSecrets(text: string, secrets: ReadonlyArray<EncodedSecret>): string {
  if (!secrets.some((secret) => text.includes(secret.json))) return text;
  return text.replace(STRING_LITERAL, (literal) => {
    for (const secret of secrets) if (literal.includes(secret.json)) literal = literal.replaceAll(secret.json, secret.shown);
    return literal;
  });
}
