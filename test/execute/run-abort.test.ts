// The pieces that keep a run's start cheap: the abort state whose AbortSignal is made on
// demand, and run ids drawn from a per-process prefix and a counter.
import { describe, expect, it } from "vitest";
import { RunAbort } from "../../runner/execute/run-abort.js";
import { newRunId } from "../../runner/execute/run-id.js";

describe("RunAbort", () => {
  it("a signal read after the abort is already aborted, with the same reason", () => {
    const abort = new RunAbort();
    const reason = new Error("timed out");
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it("a signal read before the abort fires its listeners once, and only the first reason counts", () => {
    const abort = new RunAbort();
    const seen: unknown[] = [];
    abort.signal.addEventListener("abort", () => seen.push(abort.signal.reason));
    abort.abort("first");
    abort.abort("second");
    expect(seen).toEqual(["first"]);
    expect(abort.reason).toBe("first");
  });

  it("subscribers hear the abort unless they unsubscribed", () => {
    const abort = new RunAbort();
    const heard: string[] = [];
    abort.subscribe(() => heard.push("a"));
    const b = () => heard.push("b");
    abort.subscribe(b);
    abort.subscribe(() => heard.push("c"));
    abort.unsubscribe(b);
    abort.abort(new Error("x"));
    expect(heard).toEqual(["a", "c"]);
  });
});

describe("newRunId", () => {
  it("gives v4-shaped UUIDs, all different", () => {
    const ids = Array.from({ length: 10_000 }, () => newRunId());
    for (const id of ids.slice(0, 50)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // The first 8 digits (the short id `history` shows) differ from run to run.
    expect(new Set(ids.map((id) => id.slice(0, 8))).size).toBeGreaterThan(9_900);
  });
});
