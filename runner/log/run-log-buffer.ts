import type { RunLogLine, RunLogs } from "../contracts/index.js";

/**
 * The kept tail of one run's log: the newest `keep` lines within `maxBytes`, oldest dropped
 * first and counted. A ring would save the shift; at 1,000 lines a shift is ~1 µs.
 */
export class RunLogBuffer {
  readonly lines: RunLogLine[] = [];
  dropped = 0;
  private bytes = 0;
  private readonly sizes: number[] = [];

  constructor(
    readonly runId: string,
    readonly job: string,
    private readonly keep: number,
    private readonly maxBytes: number,
  ) {}

  /** Adds a line of `size` bytes; returns how many lines this dropped (for metrics). */
  add(line: RunLogLine, size: number): number {
    const before = this.dropped;
    if (this.keep <= 0 || size > this.maxBytes) {
      this.dropped++;
      return 1;
    }
    this.lines.push(line);
    this.sizes.push(size);
    this.bytes += size;
    while (this.lines.length > this.keep || this.bytes > this.maxBytes) {
      this.lines.shift();
      this.bytes -= this.sizes.shift()!;
      this.dropped++;
    }
    return this.dropped - before;
  }

  /** What a store keeps: a copy, so later lines do not change a batch being written. */
  snapshot(): RunLogs {
    return { runId: this.runId, job: this.job, lines: this.lines.slice(), dropped: this.dropped };
  }
}
