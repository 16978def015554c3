/**
 * The jobs of a manifest as two lists in manifest order, read from the `jobs` map once for
 * every check. A map of 1,000,000 jobs is a hash table: listing its keys (for-in or
 * Object.keys) took ~0.4 s, and each pass of lookups by name ~0.2 s more.
 */
export interface JobEntries {
  readonly names: readonly string[];
  readonly raws: readonly unknown[];
}

/** The entries of `jobs` when it is a map; none otherwise (the schema reports it). */
export function jobEntries(jobs: unknown): JobEntries {
  if (jobs === null || typeof jobs !== "object" || Array.isArray(jobs)) return { names: [], raws: [] };
  const names = Object.keys(jobs);
  const raws = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) raws[i] = (jobs as Record<string, unknown>)[names[i]!];
  return { names, raws };
}
