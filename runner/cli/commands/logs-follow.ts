import type { LiveLogLine, RunLogLine, RunRecord } from "../../contracts/index.js";
import { RunletError } from "../../errors.js";
import type { RunDetail } from "../../http/run-routes.js";
import type { Remote } from "../remote.js";

export type Print = (line: RunLogLine & { runId: string; job: string; seq: number }) => void;

/**
 * `logs --follow` against a running runner: its event stream (`/api/events?run=ID`) is
 * opened first, then the run's lines so far are read and printed, then streamed lines are
 * printed from where those ended (by `seq`, so none is printed twice or lost between the
 * two). Ends when the run's final record arrives.
 */
export async function followRemote(remote: Remote, runId: string, print: Print, printDetail: (detail: RunDetail) => number, readDetail: () => Promise<RunDetail>): Promise<void> {
  const controller = new AbortController();
  let res: Response;
  try {
    res = await fetch(`${remote.url}/api/events?run=${encodeURIComponent(runId)}`, { signal: controller.signal, headers: { accept: "text/event-stream" } });
  } catch (err) {
    throw new RunletError("BAD_INPUT", `cannot reach the runner at ${remote.url} to follow run ${runId}: ${(err as Error).message}`, { cause: err });
  }
  if (!res.ok || !res.body) throw new RunletError("BAD_INPUT", `the runner at ${remote.url} refused its event stream: ${res.status}`);
  const events = sseEvents(res.body);
  try {
    // The stream is open once its first comment arrives; lines from then on are not missed.
    await events.next();
    const detail = await readDetail();
    let printed = printDetail(detail);
    if (!detail.logs.live || detail.run.status !== "running") return;
    for (;;) {
      const next = await events.next();
      if (next.done) throw new RunletError("BAD_INPUT", `the runner at ${remote.url} closed its event stream before run ${runId} ended`);
      const { event, data } = next.value;
      if (event === "log") {
        const line = JSON.parse(data) as LiveLogLine;
        if (line.seq < printed) continue;
        print(line);
        printed = line.seq + 1;
      } else if (event === "record") {
        const record = JSON.parse(data) as RunRecord;
        if (record.status !== "running") return;
      }
    }
  } finally {
    controller.abort();
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
