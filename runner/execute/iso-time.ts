/**
 * ISO 8601 strings of times in ms, the last one kept. The runs of one fire share their
 * scheduled time, and runs that start or end in the same millisecond share that: ten
 * thousand jobs of a fire get one string instead of ten thousand (~0.3 µs and a Date each).
 */
export class IsoTimes {
  private lastMs = Number.NaN;
  private lastIso = "";

  at(ms: number): string {
    if (ms !== this.lastMs) {
      this.lastIso = new Date(ms).toISOString();
      this.lastMs = ms;
    }
    return this.lastIso;
  }
}
