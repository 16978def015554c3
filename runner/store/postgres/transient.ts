/**
 * SQLSTATEs of a statement that lost to another session's locks: a deadlock (40P01) or a
 * serialization failure (40001). PostgreSQL rolled the statement (or its transaction) back,
 * so running it again is safe, and it usually succeeds at once. Replicas meet these under
 * load: the reaper, record writes and lease renewals of several replicas touch the same
 * `fires` rows in different orders. They are not the database being unreachable.
 */
const LOST_TO_LOCKS = new Set(["40P01", "40001"]);

/** Tries in all before the error is passed on (then handled as any other failure). */
const TRIES = 4;

export function lostToLocks(err: unknown): boolean {
  return LOST_TO_LOCKS.has((err as { code?: unknown } | null)?.code as string);
}

/** Runs `attempt` again while it fails by {@link lostToLocks}, after a short random pause (the other session finishes first). */
export async function retryLostToLocks<T>(attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      if (!lostToLocks(err) || tries >= TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, tries * (5 + Math.random() * 20)));
    }
  }
}
