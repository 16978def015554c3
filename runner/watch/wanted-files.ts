import { readFileSync } from "node:fs";
import { dirname, resolve, sep } from "node:path";
import { parse } from "yaml";

/**
 * The handler files a manifest names, read leniently: also when the manifest is invalid
 * (a handler that does not exist yet makes it invalid, and the watcher must see the file
 * appear). Unreadable YAML names nothing.
 */
export function handlerPathsIn(manifestFile: string): string[] {
  let raw: unknown;
  try {
    raw = parse(readFileSync(manifestFile, "utf8"), { maxAliasCount: 100 });
  } catch {
    // Invalid YAML: the reload already reported it; there is nothing more to watch.
    return [];
  }
  const jobs = (raw as { jobs?: unknown } | null)?.jobs;
  if (!jobs || typeof jobs !== "object" || Array.isArray(jobs)) return [];
  const root = dirname(manifestFile);
  return Object.values(jobs)
    .map((job) => (job && typeof job === "object" ? (job as { handler?: unknown }).handler : undefined))
    .filter((h): h is string => typeof h === "string")
    .map((h) => resolve(root, h))
    .filter((p) => p.startsWith(root + sep) && !p.includes(`${sep}node_modules${sep}`));
}
