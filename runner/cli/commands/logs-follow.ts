import type { LiveLogLine, RunRecord } from "../../contracts/index.js";
import { RunletError } from "../../errors.js";
import type { RunDetail } from "../../http/run-routes.js";
import type { Remote } from "../remote.js";
import { printDetail, type Print } from "./logs-print.js";

/** What `logs --follow` follows: one run until it ends, or a job's runs, one after another, until stopped. */
export type FollowTarget = { run: RunDetail } | { job: string; latest: () => Promise<RunDetail | null> };

/**
 * `logs --follow` against a running runner: its event stream (`/api/events?run=ID`, or
 * `?job=NAME`) is opened first, then the lines so far of the run (a job's newest run) are
 * read and printed, then streamed lines are printed from where those ended (by `seq` per
 * run, so none is printed twice or lost between the two). A run first heard of half-way
 * (it started before the stream opened) has its earlier lines read first. Following a run
 * ends with its final record; following a job ends when `signal` aborts (Ctrl-C).
 */
export async function followRemote(remote: Remote, target: FollowTarget, print: Print, readDetail: (runId: string) => Promise<RunDetail>, signal: AbortSignal): Promise<void> {
  const query = "run" in target ? `run=${encodeURIComponent(target.run.run.runId)}` : `job=${encodeURIComponent(target.job)}`;
  const controller = new AbortController();
  const stop = () => controller.abort();
  signal.addEventListener("abort", stop);
  try {
    let res: Response;
    try {
      res = await fetch(`${remote.url}/api/events?${query}`, { signal: controller.signal, headers: { accept: "text/event-stream", ...(remote.token ? { authorization: `Bearer ${remote.token}` } : {}) } });
    } catch (err) {
      if (signal.aborted) return;
      throw new RunletError("BAD_INPUT", `cannot reach the runner at ${remote.url} to follow ${"run" in target ? `run ${target.run.run.runId}` : `job ${target.job}`}: ${(err as Error).message}`, { cause: err });
    }
    if (!res.ok || !res.body) throw new RunletError("BAD_INPUT", `the runner at ${remote.url} refused its event stream: ${res.status}`);
    await follow(sseEvents(res.body), remote, target, print, readDetail);
  } catch (err) {
    if (signal.aborted) return; // Ctrl-C: the lines printed so far are the output
    throw err;
  } finally {
    signal.removeEventListener("abort", stop);
    controller.abort();
  }
}

async function follow(events: AsyncIterator<{ event: string; data: string }>, remote: Remote, target: FollowTarget, print: Print, readDetail: (runId: string) => Promise<RunDetail>): Promise<void> {
  // The stream is open once its first comment arrives; lines from then on are not missed.
  await events.next();
  const printed = new Map<string, number>();
  const runId = "run" in target ? target.run.run.runId : null;
  // Read again now that the stream is open: lines logged before are in this read, later ones on the stream.
  const first = "run" in target ? await readDetail(target.run.run.runId) : await target.latest();
  if (first) {
    printed.set(first.run.runId, printDetail(first, print));
    if (runId && (!first.logs.live || first.run.status !== "running")) return;
  }
  for (;;) {
    const next = await events.next();
    if (next.done) throw new RunletError("BAD_INPUT", `the runner at ${remote.url} closed its event stream${runId ? ` before run ${runId} ended` : ""}`);
    const { event, data } = next.value;
    if (event === "log") {
      const line = JSON.parse(data) as LiveLogLine;
      let from = printed.get(line.runId);
      // A run first heard of half-way: its earlier lines first.
      if (from === undefined) from = line.seq === 0 ? 0 : printDetail(await readDetail(line.runId), print);
      if (line.seq < from) continue;
      print(line);
      printed.set(line.runId, line.seq + 1);
    } else if (event === "record") {
      const record = JSON.parse(data) as RunRecord;
      if (record.status === "running") continue;
      if (record.runId === runId) return;
      // Its last lines came before its final record: nothing more of it will come.
      printed.delete(record.runId);
    }
  }
}

/** Server-Sent Events as { event, data } messages; comments come as event "" (the first says the stream is open). */
function sseEvents(body: ReadableStream<Uint8Array>): AsyncIterator<{ event: string; data: string }> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const queue: Array<{ event: string; data: string }> = [];
  return {
    async next() {
      while (queue.length === 0) {
        const { value, done } = await reader.read();
        if (done) return { done: true, value: undefined };
        buffer += value;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          queue.push({ event, data: data.join("\n") });
        }
      }
      return { done: false, value: queue.shift()! };
    },
  };
}
