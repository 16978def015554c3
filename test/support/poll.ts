/**
 * The one polling helper: waits (on the real clock) until `condition` holds, checking every
 * few ms; fails after `timeoutMs` saying what it waited for. The last resort, for state no
 * event or fake clock reaches (a file another process writes, a row in a database, a pool
 * scaling down); tests wait on runner events or move a fake clock wherever they can.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
