import { parseArgs } from "node:util";
import { RunletError } from "../errors.js";

/** A command's flags, declared as data: the parser and the help text both read this. */
export interface FlagSpec {
  type: "string" | "boolean";
  description: string;
  short?: string;
}

export type FlagSpecs = Record<string, FlagSpec>;
export type ParsedFlags<S extends FlagSpecs> = { [K in keyof S]?: S[K]["type"] extends "boolean" ? boolean : string };

export const COMMON_FLAGS = {
  manifest: { type: "string", description: "the manifest file (default ./jobs.yaml)", short: "m" },
  env: { type: "string", description: "environment for `enabled` (default RUNLET_ENV, NODE_ENV, development)" },
  help: { type: "boolean", description: "show this help", short: "h" },
} as const satisfies FlagSpecs;

export const STORE_FLAG = {
  store: { type: "string", description: "run store: a SQLite file path, memory, or a postgres:// URL (default .runlet/runs.db next to the manifest; RUNLET_STORE)" },
} as const satisfies FlagSpecs;

/** A flag the command does not take, or one missing its value: the CLI adds where help is. */
export class FlagError extends RunletError {
  constructor(message: string, cause: unknown) {
    super("BAD_INPUT", message, { cause });
    this.name = "FlagError";
  }
}

export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S): { flags: ParsedFlags<S>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: glueNegativeValues(argv, specs), options: specs, allowPositionals: true, strict: true });
    return { flags: values as ParsedFlags<S>, positionals };
  } catch (err) {
    throw new FlagError(flagMessage(err as Error & { code?: string }), err);
  }
}

/**
 * `--next -1` reads as a flag `-1` to parseArgs ("argument is ambiguous"); a string flag
 * followed by a negative number takes it as its value, so the flag's own check can say
 * what it expects.
 */
function glueNegativeValues(argv: string[], specs: FlagSpecs): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const spec = arg.startsWith("--") ? specs[arg.slice(2)] : undefined;
    const next = argv[i + 1];
    if (spec?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs's messages, said the way the rest of the CLI speaks. */
function flagMessage(err: Error & { code?: string }): string {
  const flag = /'(?:-\w, )?(--?[^' ]+)/.exec(err.message)?.[1];
  if (err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return `unknown flag ${flag}`;
  if (err.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    return /argument missing/.test(err.message) ? `${flag} needs a value` : /does not take an argument/.test(err.message) ? `${flag} takes no value` : `${flag}: ${err.message}`;
  }
  return err.message;
}

export function flagHelp(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(([name, spec]) => `  ${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.type === "string" ? " <value>" : ""}`.padEnd(30) + spec.description)
    .join("\n");
}

/** A positive whole number flag, or a BAD_INPUT error naming the flag. */
export function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RunletError("BAD_INPUT", `--${name} must be a whole number (got "${value}")`);
  return n;
}

/** `--params JSON` of `invoke` and `trigger`: the value, or BAD_INPUT naming the flag. */
export function paramsFlag(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RunletError("BAD_INPUT", `--params must be JSON (${(err as Error).message})`, { cause: err });
  }
}
