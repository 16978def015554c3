import type { AfterEdge, AfterOn } from "../contracts/index.js";
import type { JobEntries } from "./job-entries.js";
import type { Report } from "./report.js";
import type { ValuePath } from "./yaml-source.js";

/** One upstream name as written, and where (for problems). */
interface WrittenEdge extends AfterEdge {
  path: ValuePath;
}

/**
 * Reads every job's `after` into edges and reports what the schema cannot see: an upstream
 * name that is not a job of the manifest, a job after itself, and cycles (each written out,
 * `a -> b -> a`, at the `after` of the job the cycle was entered from). Returns the edges
 * of each job, by name; jobs without `after` are absent. Runs after the schema check: a
 * value of the wrong shape was reported there and is skipped here.
 */
export function readAfterEdges(jobs: Record<string, unknown>, entries: JobEntries, report: Report): Map<string, AfterEdge[]> {
  const written = new Map<string, WrittenEdge[]>();
  let names: string | undefined;
  for (let i = 0; i < entries.names.length; i++) {
    const name = entries.names[i]!;
    const raw = entries.raws[i];
    if (raw === null || typeof raw !== "object" || !("after" in raw)) continue;
    const path = ["jobs", name, "after"];
    if (report.hasProblemsUnder(path)) continue;
    const edges = edgesOf((raw as { after: unknown }).after, path);
    const usable: WrittenEdge[] = [];
    for (const edge of edges) {
      if (edge.job === name) report.at(edge.path, `names the job itself: a job cannot run after its own runs (${name} -> ${name})`);
      else if (!Object.hasOwn(jobs, edge.job)) report.at(edge.path, `names no job of this manifest (got ${JSON.stringify(edge.job)}; jobs: ${(names ??= nameList(entries.names))})`);
      else usable.push(edge);
    }
    if (edges.length > 0) written.set(name, usable);
  }
  for (const cycle of cyclesOf(written)) {
    report.at(["jobs", cycle[0]!, "after"], `forms a cycle: ${cycle.join(" -> ")} (a job must not run, directly or not, after its own runs)`);
  }
  const edges = new Map<string, AfterEdge[]>();
  for (const [name, list] of written) edges.set(name, list.map(({ job, on }) => ({ job, on })));
  return edges;
}

/** `after: a`, `after: [a, b]`, `after: { job: a | [a, b], on }`: one edge per name. */
function edgesOf(after: unknown, path: ValuePath): WrittenEdge[] {
  if (typeof after === "string") return [{ job: after, on: "success", path }];
  if (Array.isArray(after)) return after.map((job, i) => ({ job: String(job), on: "success", path: [...path, i] }));
  const { job, on = "success" } = after as { job: string | string[]; on?: AfterOn };
  if (typeof job === "string") return [{ job, on, path: [...path, "job"] }];
  return job.map((name, i) => ({ job: name, on, path: [...path, "job", i] }));
}

/**
 * Each cycle once, as the names along it with the first repeated at the end. An
 * iterative depth-first walk (a chain of 100,000 jobs must not overflow the stack) in
 * manifest order, so the same manifest always reports the same cycle from the same job.
 * Edges point from a job to the jobs it runs after; the cycle is printed in the order
 * runs would flow (upstream first).
 */
function cyclesOf(edges: Map<string, WrittenEdge[]>): string[][] {
  const DONE = 2;
  const ON_PATH = 1;
  const mark = new Map<string, number>();
  const cycles: string[][] = [];
  for (const start of edges.keys()) {
    if (mark.has(start)) continue;
    const path: string[] = [start];
    const next: number[] = [0];
    mark.set(start, ON_PATH);
    while (path.length > 0) {
      const name = path[path.length - 1]!;
      const out = edges.get(name) ?? [];
      const i = next[next.length - 1]!;
      if (i >= out.length) {
        mark.set(name, DONE);
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const upstream = out[i]!.job;
      const seen = mark.get(upstream);
      if (seen === ON_PATH) {
        // The path runs downstream -> upstream: x0 after x1 after ... after xk, and xk after
        // x0. Runs would flow x0 -> xk -> ... -> x1 -> x0.
        const loop = path.slice(path.indexOf(upstream));
        cycles.push([loop[0]!, ...loop.slice(1).reverse(), loop[0]!]);
      } else if (seen === undefined) {
        mark.set(upstream, ON_PATH);
        path.push(upstream);
        next.push(0);
      }
    }
  }
  return cycles;
}

function nameList(names: readonly string[]): string {
  return names.length > 10 ? `${names.slice(0, 10).join(", ")}, ...` : names.join(", ");
}
