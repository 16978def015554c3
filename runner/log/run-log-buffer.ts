import type { RunLogLine, RunLogs } from "../contracts/index.js";

/**
 * The kept tail of one run's log: the newest `keep` lines within `maxBytes`, oldest dropped
 * first and counted. Lines are held as their JSON text, made once as they are logged: the
 * store writes them as they are (no parse and stringify per line on the dispatch path), and
 * readers parse them. A ring would save the shift; at 1,000 lines a shift is ~1 µs.
 */
export class RunLogBuffer {
  private readonly texts: string[] = [];
  dropped = 0;
  /** Whether the line added last was kept (a line bigger than `maxBytes` never is). */
  lastKept = false;
  private bytes = 0;

  constructor(
    readonly runId: string,
    readonly job: string,
    /** The last this many lines are kept. */
    readonly keep: number,
    private readonly maxBytes: number,
    /** Values from the environment, as they appear inside JSON text, and what is kept instead. */
    readonly secrets: ReadonlyArray<{ json: string; shown: string }> = [],
  ) {}

  get size(): number {
    return this.texts.length;
  }

  /** Adds a line (its JSON text); returns how many lines this dropped, itself included when it was too big to keep. */
  add(text: string): number {
    const before = this.dropped;
    if (this.keep <= 0 || text.length > this.maxBytes) {
      this.dropped++;
      this.lastKept = false;
      return 1;
    }
    this.lastKept = true;
    this.texts.push(text);
    this.bytes += text.length;
    while (this.texts.length > this.keep || this.bytes > this.maxBytes) {
      this.bytes -= this.texts.shift()!.length;
      this.dropped++;
    }
    return this.dropped - before;
  }

  /** What a store keeps: the lines as one JSON array (parsed only if someone reads `lines`). */
  snapshot(): RunLogs {
    const linesJson = `[${this.texts.join(",")}]`;
    let lines: RunLogLine[] | undefined;
    return {
      runId: this.runId,
      job: this.job,
      dropped: this.dropped,
      linesJson,
      get lines() {
        return (lines ??= JSON.parse(linesJson) as RunLogLine[]);
      },
    };
  }
}
