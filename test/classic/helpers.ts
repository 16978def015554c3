import type { ClassicRuntime } from "../../runner/classic/index.js";
import type { RunRecord } from "../../runner/contracts/index.js";

/**
 * The records a runtime emits, and a way to wait for one without polling (so it works under
 * fake timers): `next(pred)` resolves with the first record, seen or still to come, that
 * matches and was not handed out before.
 */
export function recordsOf(runtime: ClassicRuntime) {
  const all: RunRecord[] = [];
  const taken = new Set<RunRecord>();
  const waiting: Array<{ pred: (r: RunRecord) => boolean; resolve: (r: RunRecord) => void }> = [];
  runtime.on("record", (record) => {
    all.push(record);
    const i = waiting.findIndex((w) => w.pred(record));
    if (i >= 0) {
      taken.add(record);
      waiting.splice(i, 1)[0]!.resolve(record);
    }
  });
  return {
    all,
    /** Records of runs that ended (and skipped fires), in order. */
    ended: () => all.filter((r) => r.status !== "running"),
    next(pred: (r: RunRecord) => boolean): Promise<RunRecord> {
      const seen = all.find((r) => !taken.has(r) && pred(r));
      if (seen) {
        taken.add(seen);
        return Promise.resolve(seen);
      }
      return new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
}

export const ended = (job: string) => (r: RunRecord) => r.job === job && r.status !== "running";
