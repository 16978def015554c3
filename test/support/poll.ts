import { inspect } from "node:util";

/** The wait of `waitFor(read, options)`: on what `read` returns. */
export interface WaitOptions<T> {
  /** Done when this holds of what `read` returned; the wait returns that value. */
  until: (value: T) => boolean;
  /** @default 10_000 */
  timeoutMs?: number;
  /** What is waited for, in the failure message. @default "condition" */
  what?: string;
  /** Between reads: a read that queries a database under test may want fewer of them. @default 5 */
  everyMs?: number;
}

/** The last read in a failure message: enough to see why, not a whole table. */
const SHOWN_CHARS = 2000;

/**
 * The one polling helper: waits (on the real clock) until `condition` holds, checking every
 * few ms; fails after `timeoutMs` saying what it waited for. The last resort, for state no
 * event or fake clock reaches (a file another process writes, a row in a database, a pool
 * scaling down); tests wait on runner events or move a fake clock wherever they can.
 *
 * Given `{ until }`, it waits on what `read` returns and returns it when `until` holds; on a
 * timeout its message shows the last value read, so a failure says what was there instead.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs?: number, what?: string): Promise<void>;
export async function waitFor<T>(read: () => T | Promise<T>, options: WaitOptions<T>): Promise<T>;
export async function waitFor<T>(read: () => T | Promise<T>, timeoutOrOptions?: number | WaitOptions<T>, what?: string): Promise<T> {
  const options: WaitOptions<T> = typeof timeoutOrOptions === "object" ? timeoutOrOptions : { until: Boolean, timeoutMs: timeoutOrOptions, what };
  const { until, timeoutMs = 10_000, everyMs = 5 } = options;
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (until(value)) return value;
    if (Date.now() - started > timeoutMs) {
      const last = typeof timeoutOrOptions === "object" ? `; last read: ${inspect(value, { depth: 4, breakLength: Infinity }).slice(0, SHOWN_CHARS)}` : "";
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${options.what ?? "condition"}${last}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
