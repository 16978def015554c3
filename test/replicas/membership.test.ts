import { describe, expect, test } from "vitest";
import { Membership, type Sighting } from "../../runner/coordinate/membership.js";
import { ownerOf, ranked } from "../../runner/coordinate/rendezvous.js";

const JOBS = Array.from({ length: 10_000 }, (_, i) => `j${i}`);
const OPTIONS = { liveMs: 3000, overlapMs: 1000, handoffMs: 2000, marginMs: 500 };

function row(owner: string, seenAt: number, extra: Partial<Sighting> = {}): Sighting {
  return { owner, seenAt, leaving: false, digest: "d1", generation: 1, ...extra };
}

/** Owners of every job under `members`. */
function owners(members: string[]): Map<string, string> {
  const view = ranked(members);
  return new Map(JOBS.map((job) => [job, ownerOf(job, view)!]));
}

describe("rendezvous ownership", () => {
  test("spreads jobs evenly: each of 4 members owns 25 % ± 3 % of 10,000 jobs", () => {
    const counts = new Map<string, number>();
    for (const owner of owners(["a", "b", "c", "d"]).values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(["a", "b", "c", "d"]);
    for (const n of counts.values()) expect(Math.abs(n / JOBS.length - 0.25)).toBeLessThan(0.03);
  });

  test("a member joining takes about 1/N of the jobs and no job moves between members that stay; leaving moves only its jobs", () => {
    const four = owners(["a", "b", "c", "d"]);
    const five = owners(["a", "b", "c", "d", "e"]);
    const moved = JOBS.filter((job) => four.get(job) !== five.get(job));
    expect(moved.every((job) => five.get(job) === "e")).toBe(true);
    expect(Math.abs(moved.length / JOBS.length - 0.2)).toBeLessThan(0.03);
    const three = owners(["a", "b", "d"]);
    const leftC = JOBS.filter((job) => four.get(job) !== three.get(job));
    expect(leftC.every((job) => four.get(job) === "c")).toBe(true);
  });

  test("the order members are listed in does not change an owner", () => {
    expect(owners(["d", "b", "a", "c"])).toEqual(owners(["a", "b", "c", "d"]));
  });
});

describe("Membership", () => {
  test("replicas with the same reading own disjoint sets that cover every job", () => {
    const rows = ["a", "b", "c"].map((o) => row(o, 1000));
    const views = rows.map((self) => {
      const m = new Membership({ self: self.owner, ...OPTIONS });
      m.observe(rows, self, 1000);
      return m;
    });
    for (const job of JOBS) expect(views.filter((m) => m.owns(job)).length).toBe(1);
  });

  test("before its first reading a replica fires every job", () => {
    expect(new Membership({ self: "a", ...OPTIONS }).owns("j1")).toBe(true);
  });

  test("a join overlaps: the old owner keeps a moved job for overlapMs after it sees the joiner, so no moment has no owner", () => {
    const a = new Membership({ self: "a", ...OPTIONS });
    a.observe([row("a", 0)], row("a", 0), 0);
    expect(JOBS.every((job) => a.owns(job))).toBe(true);
    // b joins at 100 (its first reading includes a); a sees it at 600.
    const b = new Membership({ self: "b", ...OPTIONS });
    b.observe([row("a", 0), row("b", 100)], row("b", 100), 100);
    const toB = JOBS.filter((job) => b.owns(job));
    expect(toB.length).toBeGreaterThan(4000);
    expect(toB.every((job) => a.owns(job))).toBe(true);
    expect(a.observe([row("a", 500), row("b", 100)], row("a", 500), 600)).toBe(true);
    expect(toB.every((job) => a.owns(job))).toBe(true); // within the overlap
    // b gained them from a live owner: nothing went unclaimed.
    expect(toB.map((job) => b.unclaimedSince(job)).filter((s) => s !== null)).toEqual([]);
    expect(a.observe([row("a", 1500), row("b", 1400)], row("a", 1500), 1700)).toBe(true); // overlap over
    expect(toB.some((job) => a.owns(job))).toBe(false);
    expect(JOBS.every((job) => a.owns(job) !== b.owns(job))).toBe(true);
    expect(a.observe([row("a", 2500), row("b", 2400)], row("a", 2500), 2600)).toBe(false);
  });

  test("a dead member (heartbeat older than liveMs) is taken over: its jobs' fires count as unclaimed since its last heartbeat, less the margin", () => {
    const a = new Membership({ self: "a", ...OPTIONS });
    a.observe([row("a", 0), row("b", 0)], row("a", 0), 0);
    const ofB = JOBS.filter((job) => !a.owns(job));
    // b heartbeats once more after a joined (so it saw a), then dies.
    a.observe([row("a", 1000), row("b", 1000)], row("a", 1000), 1000);
    expect(a.observe([row("a", 3900), row("b", 1000)], row("a", 3900), 3900)).toBe(false); // b still within liveMs
    expect(a.observe([row("a", 4100), row("b", 1000)], row("a", 4100), 4100)).toBe(true);
    expect(ofB.every((job) => a.owns(job))).toBe(true);
    expect(new Set(ofB.map((job) => a.unclaimedSince(job)))).toEqual(new Set([500]));
    // Jobs a had all along: nothing to catch up.
    expect(JOBS.filter((job) => !ofB.includes(job)).every((job) => a.unclaimedSince(job) === null)).toBe(true);
  });

  test("a leaving member is dropped at once; its fires count as unclaimed only from the end of its handoff", () => {
    const a = new Membership({ self: "a", ...OPTIONS });
    a.observe([row("a", 1000), row("b", 1000)], row("a", 1000), 1000);
    const ofB = JOBS.filter((job) => !a.owns(job));
    a.observe([row("a", 1500), row("b", 1400, { leaving: true })], row("a", 1500), 1500);
    expect(ofB.every((job) => a.owns(job))).toBe(true);
    expect(new Set(ofB.map((job) => a.unclaimedSince(job)))).toEqual(new Set([1400 + 2000 - 500]));
    // Its row deleted after the handoff: the last sighting still says when it stopped.
    a.observe([row("a", 4000)], row("a", 4000), 4000);
    expect(ofB.every((job) => a.owns(job))).toBe(true);
  });

  test("replicas on an older manifest own nothing; the newest manifest's replicas own everything", () => {
    const rows = [row("a", 1000, { digest: "old", generation: 1 }), row("b", 1000, { digest: "new", generation: 2 }), row("c", 1000, { digest: "new", generation: 2 })];
    const views = rows.map((self) => {
      const m = new Membership({ self: self.owner, ...OPTIONS });
      m.observe(rows, self, 1000);
      return m;
    });
    expect(JOBS.some((job) => views[0]!.owns(job))).toBe(false);
    for (const job of JOBS) expect(Number(views[1]!.owns(job)) + Number(views[2]!.owns(job))).toBe(1);
  });

  test("a replacement that joins while a dead member still looks alive: the jobs it won from that member at once are taken over from its last heartbeat when it lapses", () => {
    // b died at 1000 (its last heartbeat); c joins at 2000, before b's row lapses (liveMs 3000).
    const c = new Membership({ self: "c", ...OPTIONS });
    c.observe([row("a", 2000), row("b", 1000)], row("c", 2000), 2000);
    const pre = ranked(["a", "b"]);
    const wonFromB = JOBS.filter((job) => c.owns(job) && ownerOf(job, pre) === "b");
    const wonFromA = JOBS.filter((job) => c.owns(job) && ownerOf(job, pre) === "a");
    expect(wonFromB.length).toBeGreaterThan(1000);
    // Nobody has lapsed yet: nothing to claim late.
    expect(wonFromB.every((job) => c.unclaimedSince(job) === null)).toBe(true);
    expect(c.observe([row("a", 4100), row("b", 1000), row("c", 4100)], row("c", 4100), 4100)).toBe(true);
    const movedNow = JOBS.filter((job) => c.owns(job) && !wonFromB.includes(job) && !wonFromA.includes(job));
    expect(movedNow.length).toBeGreaterThan(1000);
    // Both the jobs it won from b at its join and those it takes from b now: since b's last heartbeat.
    expect(new Set([...wonFromB, ...movedNow].map((job) => c.unclaimedSince(job)))).toEqual(new Set([500]));
    // a was alive all along and fired its own: nothing of them.
    expect(wonFromA.every((job) => c.unclaimedSince(job) === null)).toBe(true);
    // The next change (b's row deleted) takes nothing over again.
    c.observe([row("a", 4500), row("c", 4500)], row("c", 4500), 4500);
    expect(JOBS.every((job) => c.unclaimedSince(job) === null)).toBe(true);
  });

  test("a row without a digest (a racing replica, or a runlet from before the split) is no member, whatever its manifest's time", () => {
    const rows = [row("old", 1000, { digest: "", generation: 5 }), row("a", 1000, { generation: 5 }), row("b", 1000, { generation: 4, digest: "d0" })];
    const a = new Membership({ self: "a", ...OPTIONS });
    a.observe(rows, rows[1]!, 1000);
    expect(a.members).toEqual(["a"]);
    const b = new Membership({ self: "b", ...OPTIONS });
    b.observe(rows, rows[2]!, 1000);
    expect(b.members).toEqual(["a"]);
    // Alone with it, a replica fires every job.
    const c = new Membership({ self: "c", ...OPTIONS });
    c.observe([rows[0]!], row("c", 1000, { generation: 1 }), 1000);
    expect(JOBS.every((job) => c.owns(job))).toBe(true);
  });

  test("others alive, for the handoff: any live row but this replica's, whatever its manifest; leaving or dead rows do not count", () => {
    const a = new Membership({ self: "a", ...OPTIONS });
    a.observe([row("a", 1000, { generation: 2, digest: "new" }), row("b", 1000, { generation: 1, digest: "old" })], row("a", 1000, { generation: 2, digest: "new" }), 1000);
    expect(a.members).toEqual(["a"]);
    expect(a.othersAlive(1500)).toBe(true);
    expect(a.othersAlive(4500)).toBe(false);
    a.observe([row("a", 1000), row("b", 1000, { leaving: true })], row("a", 1000), 1000);
    expect(a.othersAlive(1500)).toBe(false);
  });

  test("rows gone from the table are forgotten: a replica remembers only its last reading", () => {
    const a = new Membership({ self: "a", ...OPTIONS });
    for (let i = 0; i < 100; i++) a.observe([row("a", i * 1000), row(`r${i}`, i * 1000)], row("a", i * 1000), i * 1000);
    expect(a.remembered).toBe(2);
  });
});
