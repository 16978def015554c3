/**
 * Rendezvous (highest random weight) hashing: each job's owner is the member whose score
 * for the job is highest. Every replica that sees the same members picks the same owner
 * without talking to the others, and a member joining or leaving moves only the jobs it
 * wins or held (about 1/N of them), never a job between two members that stay.
 */

/** FNV-1a over the string's UTF-16 code units: a stable 32-bit hash, the same in every process. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: FNV alone leaves neighbouring names (j1, j2) with correlated scores. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A member's score for a job, from both hashes (each computed once per name). */
export function score(memberHash: number, jobHash: number): number {
  return mix(mix(jobHash) ^ Math.imul(memberHash, 0x9e3779b1));
}

/** Members with their hashes, ready to score many jobs. */
export interface Ranked {
  readonly names: readonly string[];
  readonly hashes: readonly number[];
}

export function ranked(members: Iterable<string>): Ranked {
  const names = [...new Set(members)].sort();
  return { names, hashes: names.map(hashString) };
}

/** The job's owner among `members`; undefined when there are none. Ties (1 in 2^32) go to the smaller name. */
export function ownerOf(job: string | number, members: Ranked): string | undefined {
  const jobHash = typeof job === "number" ? job : hashString(job);
  let best: string | undefined;
  let bestScore = -1;
  for (let i = 0; i < members.names.length; i++) {
    const s = score(members.hashes[i]!, jobHash);
    if (s > bestScore) {
      best = members.names[i];
      bestScore = s;
    }
  }
  return best;
}
