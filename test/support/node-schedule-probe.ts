import schedule from "node-schedule";
import { vi } from "vitest";
import type { RecurrenceFields } from "../../runner/contracts/index.js";

/**
 * What node-schedule itself fires: a real scheduleJob under fake timers, advanced from
 * one invocation to the next.
 */
export function nodeScheduleFires(spec: string | schedule.RecurrenceRule | schedule.RecurrenceSpecObjLit, from: Date, count: number): string[] {
  vi.useFakeTimers({ now: from });
  const fires: string[] = [];
  const job = schedule.scheduleJob(`probe-${Math.random()}`, spec as string, () => {});
  try {
    for (let i = 0; i < count; i++) {
      const next = job!.nextInvocation();
      if (!next) break;
      fires.push(new Date(next.getTime()).toISOString());
      // Let node-schedule's own timer fire, so it computes its next invocation itself.
      vi.advanceTimersByTime(next.getTime() - Date.now() + 1);
    }
  } finally {
    job?.cancel();
    vi.useRealTimers();
  }
  return fires;
}

export function nodeScheduleRule(fields: RecurrenceFields, tz: string | null): schedule.RecurrenceRule {
  const r = new schedule.RecurrenceRule();
  for (const [key, value] of Object.entries(fields)) {
    const toSegment = (v: number | { start: number; end: number; step?: number }) => (typeof v === "number" ? v : new schedule.Range(v.start, v.end, v.step ?? 1));
    (r as unknown as Record<string, unknown>)[key] = Array.isArray(value) ? value.map(toSegment) : toSegment(value as number);
  }
  if (tz) r.tz = tz;
  return r;
}

