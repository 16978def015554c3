import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import formatsPlugin from "ajv-formats";
import { packageRoot } from "../package-root.js";
import { DURATION_EXPECTED } from "./duration.js";
import type { JobEntries } from "./job-entries.js";
import { pathKey, shown, type Report } from "./report.js";
import type { ValuePath } from "./yaml-source.js";

// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = formatsPlugin.default;

/** The JSON Schema is the single source of the manifest's shape (editors read it too). */
export const manifestSchema = JSON.parse(readFileSync(join(packageRoot, "schemas", "jobs.schema.json"), "utf8")) as Record<string, unknown>;

let validators: { manifest: ValidateFunction; job: ValidateFunction } | undefined;

/**
 * ajv's errors for the manifest: the manifest around the jobs in one call, then each job
 * in a call of its own, its errors' paths put under `/jobs/<name>`. One call for all would
 * be quadratic: for each invalid job, ajv's code joins that job's errors onto every error
 * so far (`vErrors.concat(...)`), and 20,000 jobs with a bad `timeout` took 13 s to check.
 */
function validate(value: unknown, { names, raws }: JobEntries): ErrorObject[] {
  validators ??= compileValidators();
  const jobs = (value as { jobs?: unknown } | null)?.jobs;
  const isMap = jobs !== null && typeof jobs === "object" && !Array.isArray(jobs);
  // The manifest's own validator would only walk a jobs map to check names, which
  // checkJobs does (and which are left out below): it is given an empty one.
  const outer = isMap ? { ...(value as object), jobs: {} } : value;
  const errors = validators.manifest(outer) ? [] : [...(validators.manifest.errors ?? [])];
  if (!isMap) return errors;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (validators.job(raws[i])) continue;
    const prefix = `/jobs/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    for (const error of validators.job.errors ?? []) errors.push({ ...error, instancePath: prefix + error.instancePath });
  }
  return errors;
}

function compileValidators(): { manifest: ValidateFunction; job: ValidateFunction } {
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  addFormats(ajv);
  ajv.addSchema(manifestSchema);
  const job = ajv.getSchema(`${String(manifestSchema.$id)}#/$defs/job`);
  if (!job) throw new Error("schemas/jobs.schema.json has no $defs/job");
  // The same schema, its jobs' shape left to `job` (their names are still checked here).
  const properties = manifestSchema.properties as Record<string, Record<string, unknown>>;
  const { $id: _id, ...rest } = manifestSchema;
  const manifest = ajv.compile({ ...rest, properties: { ...properties, jobs: { ...properties.jobs, additionalProperties: true } } });
  return { manifest, job };
}

/** What a value of each `anyOf` definition may be, for messages. */
const EXPECTED: Record<string, string> = {
  duration: DURATION_EXPECTED,
  enabled: 'true, false, a list of environment names, or a map { <env>: true|false, "*": true|false }',
  retries: "a number of retries or a map { max, backoff, delay, maxDelay }",
  after: "a job name, a list of job names, or a map { job: NAME | [NAMES], on: success | failure | always }",
  upstreamJobs: "a job name or a list of job names",
};

const TYPE_NAMES: Record<string, string> = {
  object: "a map",
  array: "a list",
  string: "a string",
  integer: "a whole number",
  number: "a number",
  boolean: "true or false",
};

/**
 * Checks the parsed manifest against the JSON Schema and reports ajv's errors as
 * positioned, readable problems. Schedules and job names have their own, more precise
 * checks, so ajv's errors about them are left out here.
 */
export function checkSchema(value: unknown, report: Report, jobs: JobEntries): void {
  const errors = validate(value, jobs)
    .map((error) => ({ error, path: toPath(error.instancePath) }))
    .filter(({ error, path }) => !isScheduleError(path) && error.keyword !== "propertyNames" && !error.propertyName);

  // For a value that matched no branch of an anyOf: if a branch of the right shape got
  // further (errors deeper inside the value), report those; else one "must be ..." line.
  // Both questions are lookups by path key, so reporting stays linear in the errors.
  const owners = new Map<string, Owner>();
  const withDeeperErrors = new Set<string>();
  for (const [order, { error, path }] of errors.entries()) {
    const key = pathKey(path);
    if (error.keyword === "anyOf" && !owners.has(key)) owners.set(key, { error, key, depth: path.length, order });
    for (let depth = 0; depth < path.length; depth++) withDeeperErrors.add(pathKey(path.slice(0, depth)));
  }
  for (const { error, path } of errors) {
    const owner = owners.size > 0 ? ownerOf(path, owners) : null;
    if (owner) {
      const deeper = withDeeperErrors.has(owner.key);
      if (error.keyword === "anyOf" && error === owner.error && !deeper) report.at(path, `must be ${expectedOf(error)} (got ${shown(valueAt(value, path))})`);
      if (path.length === owner.depth) continue;
    }
    reportError(error, path, valueAt(value, path), report);
  }
}

interface Owner {
  error: ErrorObject;
  key: string;
  depth: number;
  /** Its index in ajv's errors: ajv lists an inner anyOf before the one around it. */
  order: number;
}

/** Of the anyOf errors at `path` or its parents, the one ajv listed first. */
function ownerOf(path: ValuePath, owners: Map<string, Owner>): Owner | null {
  let found: Owner | null = null;
  for (let depth = 0; depth <= path.length; depth++) {
    const owner = owners.get(pathKey(path.slice(0, depth)));
    if (owner && (!found || owner.order < found.order)) found = owner;
  }
  return found;
}

function reportError(error: ErrorObject, path: ValuePath, got: unknown, report: Report): void {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      const supported = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
      const note = path.length === 1 && path[0] === "defaults" && (key === "handler" || key === "schedule" || key === "after") ? "; defaults may set any job field except handler, schedule and after" : "";
      report.at([...path, key], `is not a known key${note}; supported keys are: ${supported.join(", ")}`, "key");
      return;
    }
    case "required":
      report.at(path, `is missing required key '${String(params.missingProperty)}'`, "key");
      return;
    case "enum":
      report.at(path, `must be one of ${(params.allowedValues as unknown[]).join(", ")} (got ${shown(got)})`);
      return;
    case "const":
      report.at(path, `must be ${JSON.stringify(params.allowedValue)} (got ${shown(got)})`);
      return;
    case "type":
      report.at(path, `must be ${String(params.type).split(",").map((t) => TYPE_NAMES[t] ?? t).join(" or ")} (got ${shown(got)})`);
      return;
    case "minimum":
      report.at(path, `must be at least ${String(params.limit)} (got ${shown(got)})`);
      return;
    case "pattern":
      report.at(path, path[path.length - 1] === "handler" ? `must be a .ts, .mts, .js, .mjs or .cjs file (got ${shown(got)})` : `must match ${String(params.pattern)} (got ${shown(got)})`);
      return;
    default:
      report.at(path, `${error.message ?? "is invalid"} (got ${shown(got)})`);
  }
}

function expectedOf(error: ErrorObject): string {
  // `timeout` is a `$ref` to `duration`: follow refs to the definition that has a wording.
  const defs = manifestSchema.$defs as Record<string, { $ref?: string }>;
  let def = /#\/\$defs\/(\w+)\//.exec(error.schemaPath)?.[1];
  while (def && !EXPECTED[def] && defs[def]?.$ref) def = defs[def]!.$ref!.split("/").pop();
  return (def && EXPECTED[def]) ?? "a valid value";
}

function isScheduleError(path: ValuePath): boolean {
  return path[0] === "jobs" && path[2] === "schedule";
}

function toPath(pointer: string): ValuePath {
  return pointer === "" ? [] : pointer.slice(1).split("/").map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function valueAt(value: unknown, path: ValuePath): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
