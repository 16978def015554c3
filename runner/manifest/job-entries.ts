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
 * The maps at the top of a text the line reader (block-reader.ts) reads (`jobs`,
 * `defaults`): their keys are listed as they are read and set once the whole text is
 * read. Setting each key of a map of 1,000,000 (a hash table) as the reading went on made
 * the read of 1,000,000 jobs take 4.0–4.8 s of CPU here, against 3.1–3.5 s this way (the
 * table, old to the garbage collector, kept pointing to young objects that every
 * collection of the young had to visit). The lists are kept for jobEntries, so a million jobs are not listed again and
 * looked up by name; it takes them once, right after the read, before anything could
 * change the map. A map with a key like an array index ("42") is not kept: Object.keys
 * puts such keys first.
 */
/** A key written again in its map: the later value is kept, as `yaml` keeps it. */
export interface DuplicateKey {
  /** Character offset of the repeated key (its quote, if quoted), where `yaml` puts the problem. */
  offset: number;
  key: string;
}

export class TopMaps {
  /** @param duplicates where repeated keys are listed, when the reader's caller takes them as problems (null: one declines the text). */
  constructor(private readonly duplicates: DuplicateKey[] | null) {}

  private readonly maps: Array<{ map: Record<string, unknown>; names: string[]; raws: unknown[]; offsets: number[] }> = [];

  /** The next keys added belong to `map`. */
  open(map: Record<string, unknown>): void {
    this.maps.push({ map, names: [], raws: [], offsets: [] });
  }

  /** A key of the open map, its value, and where the key is written (for a duplicate's problem). */
  add(key: string, value: unknown, offset: number): void {
    const top = this.maps[this.maps.length - 1]!;
    top.names.push(key);
    top.raws.push(value);
    top.offsets.push(offset);
  }

  /** A key written again at `offset` (in any map): listed, or false when the text is to be declined. */
  repeated(key: string, offset: number): boolean {
    this.duplicates?.push({ offset, key });
    return this.duplicates !== null;
  }

  /**
   * Sets every key on its map. A duplicate key: false (the text is then left to js-yaml),
   * or, when the reader's caller collects them, listed in `duplicates` with the later value
   * kept, as `yaml` keeps it (that map's lists are then not kept: they hold the name twice).
   */
  fill(): boolean {
    for (const { map, names, raws, offsets } of this.maps) {
      let once = true;
      for (let i = 0; i < names.length; i++) {
        if (Object.hasOwn(map, names[i]!)) {
          if (!this.repeated(names[i]!, offsets[i]!)) return false;
          once = false;
        }
        map[names[i]!] = raws[i];
      }
      if (once && !names.some(isArrayIndex)) listed.set(map, { names, raws });
    }
    return true;
  }
}

const listed = new WeakMap<object, { names: string[]; raws: unknown[] }>();

function isArrayIndex(name: string): boolean {
  const c = name.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9][0-9]{0,9})$/.test(name);
}
