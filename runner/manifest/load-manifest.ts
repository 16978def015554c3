import { isAscii } from "node:buffer";
import { readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { ManifestError, type Problem } from "../errors.js";
import type { AfterEdge, JobDefinition, Manifest } from "../contracts/index.js";
import { readAfterEdges } from "./after-edges.js";
import { manifestEnv, redactProblems, resolveEnvValues, type EnvSource } from "./env-values.js";
import { DURATION_EXPECTED, parseDuration } from "./duration.js";
import { environmentsNamed, resolveEnvironment } from "./environment.js";
import { resolveHandlerPath } from "./handler-path.js";
import { jobEntries, type JobEntries } from "./job-entries.js";
import { normalizeJob, type RawJob } from "./normalize-job.js";
import { Report, shown } from "./report.js";
import { checkSchema } from "./schema-check.js";
import { readSchedule, readZone, ScheduleCache } from "./schedule-source.js";
import { parseYamlSource } from "./yaml-source.js";

export interface LoadOptions {
  /** The environment `enabled` is read for. @default resolveEnvironment() */
  env?: string;
  /** Where `${env:NAME}` values come from. @default the process's environment, then `.env` next to the manifest */
  envSource?: EnvSource;
  /** How file names appear in problems. @default relative to the current directory */
  displayPath?: (file: string) => string;
}

const JOB_NAME = /^[a-z0-9][a-z0-9-_.]*$/;
/** The `after` of every job that has none: one frozen list, not one per job. */
const NO_EDGES = Object.freeze([]) as unknown as AfterEdge[];
const DURATION_FIELDS = ["timeout", "lateness", "startingDeadline"] as const;

/** Reads, validates and normalizes a manifest file. Throws ManifestError with every problem. */
export function loadManifest(file: string, options: LoadOptions = {}): Manifest {
  return parseManifest(resolve(file), readManifest(file, options), options);
}

/** The manifest's text; a file that cannot be read is a problem at its 1:1. */
export function readManifest(file: string, options: LoadOptions = {}): string {
  const absolute = resolve(file);
  try {
    const bytes = readFileSync(absolute);
    // ASCII (most manifests) is latin1 too, which Node copies without decoding: half the
    // ~0.25 s that decoding a 100 MB manifest as UTF-8 took.
    return bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
  } catch (err) {
    const display = (options.displayPath ?? defaultDisplayPath)(absolute);
    throw new ManifestError([{ file: display, line: 1, col: 1, message: `cannot read manifest: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
}

/** Validates and normalizes manifest text that was read from `file`. Throws ManifestError with every problem. */
export function parseManifest(file: string, text: string, options: LoadOptions = {}): Manifest {
  const { manifest, problems } = inspectManifest(file, text, options);
  if (problems.length > 0) throw new ManifestError(problems);
  return manifest;
}

/**
 * Every problem of a manifest, and the jobs that have none (`validate` still compiles
 * their handlers, so one pass reports manifest and handler problems together).
 */
export function inspectManifest(file: string, text: string, options: LoadOptions = {}): { manifest: Manifest; problems: Problem[] } {
  const env = options.env ?? resolveEnvironment();
  const absolute = resolve(file);
  const root = realpathSync(dirname(absolute));
  const source = parseYamlSource((options.displayPath ?? defaultDisplayPath)(absolute), text);
  const report = new Report(source);
  let jobs: JobDefinition[] = [];
  const environments = new Set<string>();
  let threads: number | null = null;
  let used = new Map<string, string>();

  if (source.value !== undefined) {
    const written = source.value;
    let value: unknown = written;
    // Most manifests hold no reference: a test of the text spares them the walk and the .env read.
    if (text.includes("${env:")) ({ value, used } = resolveEnvValues(written, options.envSource ?? manifestEnv(dirname(absolute)), report));
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      report.at([], `must be a map with version and jobs (got ${shown(value)})`);
    } else {
      const entries = jobEntries((value as { jobs?: unknown }).jobs);
      checkSchema(value, report, entries);
      // Assigned, not spread into push(): a spread passes every job as an argument on the
      // stack, which overflows at ~130,000 jobs.
      jobs = checkJobs(value as Record<string, unknown>, written as Record<string, unknown>, entries, root, env, report);
      if (used.size > 0) keepSecretsOutOfLogs(jobs, used);
      for (const name of environmentsOf(value as Record<string, unknown>, entries)) environments.add(name);
      if (typeof (value as { threads?: unknown }).threads === "number") threads = (value as { threads: number }).threads;
    }
  }

  // A problem never prints a value that came from the environment (it prints the reference).
  const problems: Problem[] = redactProblems([...source.problems, ...report.problems], used).sort((a, b) => a.line - b.line || a.col - b.col);
  return { manifest: { file: absolute, root, env, environments: [...environments].sort(), jobs, threads }, problems };
}

/**
 * Every value taken from the environment is hidden from the kept log lines of every job
 * (a handler may log its params, or a URL built from them). Values under 4 characters are
 * left alone: hiding every "1" or "yes" would garble lines and hide nothing worth hiding.
 */
function keepSecretsOutOfLogs(jobs: JobDefinition[], used: Map<string, string>): void {
  const secrets = [...used].filter(([, value]) => value.length >= 4).map(([name, value]) => ({ name, value }));
  if (secrets.length === 0) return;
  for (const job of jobs) if (job.logs) job.logs = { ...job.logs, secrets };
}

/** The environment names the `enabled` of the defaults and of every job mention. */
function environmentsOf(manifest: Record<string, unknown>, { raws }: JobEntries): string[] {
  const names = isMap(manifest.defaults) ? environmentsNamed(manifest.defaults.enabled) : [];
  for (const job of raws) {
    if (isMap(job) && job.enabled !== undefined) for (const env of environmentsNamed(job.enabled)) names.push(env);
  }
  return names;
}

/** The checks a JSON Schema cannot make, and normalization of the jobs that pass. */
function checkJobs(manifest: Record<string, unknown>, written: Record<string, unknown>, entries: JobEntries, root: string, env: string, report: Report): JobDefinition[] {
  const defaults = isMap(manifest.defaults) ? manifest.defaults : {};
  const defaultZone = defaults.timezone === undefined ? null : readZone(defaults.timezone, ["defaults", "timezone"], report);
  checkDurations(defaults, ["defaults"], report);
  if (!isMap(manifest.jobs)) return [];

  const jobs: JobDefinition[] = [];
  const after = readAfterEdges(manifest.jobs, entries, report);
  // Many jobs share a handler file: resolve each path (realpath + stat) once per load.
  const handlers = new Map<string, ReturnType<typeof resolveHandlerPath>>();
  // And most share a few schedules: each distinct one is checked once (schedule-source.ts).
  const schedules = new ScheduleCache();
  const { names, raws } = entries;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const raw = raws[i];
    const path = ["jobs", name];
    if (!JOB_NAME.test(name)) {
      report.at(path, `is not a valid job name: use lowercase letters, digits, '-', '_' and '.', starting with a letter or digit (got ${JSON.stringify(name)})`, "key");
    }
    if (!isMap(raw)) continue;
    const zone = raw.timezone === undefined ? defaultZone : readZone(raw.timezone, [...path, "timezone"], report);
    const schedule = schedules.known(raw.schedule, zone) ?? readSchedule(raw.schedule, [...path, "schedule"], report, zone, schedules);
    checkDurations(raw, path, report);
    let handlerPath: string | null = null;
    if (typeof raw.handler === "string" && !report.hasProblemsUnder(path, "handler")) {
      let resolved = handlers.get(raw.handler);
      if (!resolved) handlers.set(raw.handler, (resolved = resolveHandlerPath(raw.handler, root)));
      if ("problem" in resolved) report.at([...path, "handler"], resolved.problem);
      else handlerPath = resolved.path;
    }
    // Only a job free of problems (schema errors included) is built.
    if (!handlerPath || report.hasProblemsUnder(path)) continue;
    // Without references the written manifest is the same object: the job is its own written form.
    const shown = written === manifest ? { raw, defaults } : { raw: (written.jobs as Record<string, RawJob>)[name]!, defaults: isMap(written.defaults) ? written.defaults : {} };
    jobs.push(normalizeJob({ name, raw, defaults, handlerPath, schedule, timezone: zone, environment: env, after: (after.size > 0 && after.get(name)) || NO_EDGES, written: shown }));
  }
  return jobs;
}

function checkDurations(fields: RawJob, path: Array<string>, report: Report): void {
  for (const key of DURATION_FIELDS) {
    // The schema already refuses negative numbers; this catches what it lets through (.inf).
    if (typeof fields[key] === "number" && parseDuration(fields[key]) === null && !report.hasProblemsUnder(path, key)) {
      report.at([...path, key], `must be ${DURATION_EXPECTED} (got ${shown(fields[key])})`);
    }
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function defaultDisplayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}
