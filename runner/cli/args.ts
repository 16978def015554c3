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

export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S): { flags: ParsedFlags<S>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: specs, allowPositionals: true, strict: true });
    return { flags: values as ParsedFlags<S>, positionals };
  } catch (err) {
    throw new RunletError("BAD_INPUT", (err as Error).message, { cause: err });
  }
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
