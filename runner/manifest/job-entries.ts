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
  const found = listed.get(jobs);
  if (found) {
    listed.delete(jobs);
    return found;
  }
  const names = Object.keys(jobs);
  const raws = new Array<unknown>(names.length);
  for (let i = 0; i < names.length; i++) raws[i] = (jobs as Record<string, unknown>)[names[i]!];
  return { names, raws };
}

/**
 * The line reader (block-reader.ts) lists each map at the top of the text (`jobs`,
 * `defaults`) as it reads it, so a manifest of a million jobs is not listed again and
 * looked up by name. jobEntries takes a list once, right after the read, before anything
 * could change the map. A list is dropped when the map has a key like an array index
 * ("42"), which Object.keys would put first.
 */
const listed = new WeakMap<object, { names: string[]; raws: unknown[] }>();
let current: { names: string[]; raws: unknown[] } | null = null;

/** Starts listing `map` (null: stop). */
export function listEntriesOf(map: object | null): void {
  current = map ? { names: [], raws: [] } : null;
  if (map) listed.set(map, current!);
}

/** A key the reader set on the map being listed. */
export function listEntry(map: object, key: string, value: unknown): void {
  const c = key.charCodeAt(0);
  if (c >= 48 && c <= 57 && ARRAY_INDEX.test(key)) listed.delete(map);
  current!.names.push(key);
  current!.raws.push(value);
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;
