/**
 * `text.slice(start, end)`, but the same string object as the last time the same
 * characters were sliced, when they are short and still cached. A million jobs repeat the
 * same keys (`handler`, `schedule`) and mostly the same values (a handler path, a cron):
 * one string each instead of one per job is less memory, and a string whose hash is
 * already known when the checks look it up (the schedule cache). A direct-mapped cache by
 * a hash of the characters; forgetSharedSlices() empties it after each read, as its
 * strings may be slices that hold the whole text.
 */
export function sharedSlice(text: string, start: number, end: number): string {
  const length = end - start;
  if (length > MAX_SHARED) return text.slice(start, end);
  let hash = length;
  for (let i = start; i < end; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  const slot = hash & (SLOTS - 1);
  const known = slots[slot];
  if (known !== undefined && known.length === length && sameCharacters(known, text, start)) return known;
  const fresh = text.slice(start, end);
  slots[slot] = fresh;
  return fresh;
}

/** `text.startsWith(known, start)`, as a loop: the builtin with a position cost ~4× as much here. */
function sameCharacters(known: string, text: string, start: number): boolean {
  for (let i = 0; i < known.length; i++) if (known.charCodeAt(i) !== text.charCodeAt(start + i)) return false;
  return true;
}

export function forgetSharedSlices(): void {
  slots.fill(undefined);
}

const MAX_SHARED = 48;
const SLOTS = 4096;
const slots: Array<string | undefined> = new Array<string | undefined>(SLOTS).fill(undefined);
