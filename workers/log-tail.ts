import type { LogLine } from "../runner/execute/protocol.js";

/**
 * The last lines of a run past what it may send while it runs, within the same bounds
 * (lines and bytes): sent when the run ends, so that the lines kept with a run that logs a
 * million are its first and its last, never the whole flood.
 */
export class LogTail {
  private lines: LogLine[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  /** Keeps `line` (of `size` bytes); returns how many older lines were dropped to make room. */
  push(line: LogLine, size: number): number {
    this.lines.push(line);
    this.sizes.push(size);
    this.bytes += size;
    let dropped = 0;
    while (this.lines.length - this.head > this.maxLines || this.bytes > this.maxBytes) {
      this.bytes -= this.sizes[this.head]!;
      this.head++;
      dropped++;
    }
    if (this.head >= 1024 && this.head * 2 >= this.lines.length) {
      // The dropped slots at the front are most of the arrays: let them go.
      this.lines = this.lines.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
    return dropped;
  }

  /** The lines kept, oldest first; the tail is empty after. */
  take(): LogLine[] {
    const kept = this.lines.slice(this.head);
    this.lines = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
    return kept;
  }
}
