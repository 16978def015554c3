import type { IncomingMessage, ServerResponse } from "node:http";
import type { LiveLogLine, RunRecord } from "../contracts/index.js";
import type { ReloadView, RunnerView } from "./runner-view.js";

export interface EventStreamOptions {
  /** A comment line this often keeps proxies and browsers from closing an idle stream. @default 15000 */
  heartbeatMs: number;
  /** A client this many bytes behind is dropped (its EventSource reconnects) rather than buffered without end. @default 1048576 */
  maxBufferedBytes: number;
}

/**
 * `GET /api/events`: Server-Sent Events of the runner's `record` and `reload` events, and
 * `log` (a kept `ctx.log` line of a run in flight) for a stream that asks for lines:
 * `?job=NAME` and `?run=RUNID` keep the records and lines of that job or run only, and
 * `?logs=1` asks for every line. A bare stream (the dashboard's) gets no lines: while any
 * stream hears lines the runner copies each one live, a cost a page that shows none of
 * them must not put on every run. Each stream holds its listeners on the runner and a
 * timer; all go when the client disconnects or the server closes, so streams that come and
 * go leak nothing.
 */
export class EventStreams {
  private readonly open = new Set<() => void>();

  constructor(
    private readonly runner: RunnerView,
    private readonly options: EventStreamOptions,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.open.size;
  }

  serve(req: IncomingMessage, res: ServerResponse, url?: URL): void {
    const headers = {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      // nginx buffers responses by default, which would hold events back.
      "x-accel-buffering": "no",
    };
    // HEAD gets the headers only: a body it would never read must not hold a stream open.
    if (req.method === "HEAD") {
      res.writeHead(200, headers).end();
      return;
    }
    res.writeHead(200, headers);
    res.write("retry: 2000\n: connected\n\n");

    const send = (event: string, data: unknown) => {
      if (res.writableLength > this.options.maxBufferedBytes) {
        end();
        return;
      }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const job = url?.searchParams.get("job") ?? null;
    const run = url?.searchParams.get("run") ?? null;
    const wanted = (r: { job: string; runId: string }) => (job === null || r.job === job) && (run === null || r.runId === run);
    const hearsLines = job !== null || run !== null || url?.searchParams.get("logs") === "1";
    const onRecord = (record: RunRecord) => {
      if (wanted(record)) send("record", record);
    };
    const onLog = (line: LiveLogLine) => {
      if (wanted(line)) send("log", line);
    };
    const onReload = (result: ReloadView) => send("reload", reloadEvent(result));
    const heartbeat = setInterval(() => res.write(": heartbeat\n\n"), this.options.heartbeatMs);
    heartbeat.unref();

    const end = () => {
      if (!this.open.delete(end)) return;
      clearInterval(heartbeat);
      this.runner.off("record", onRecord);
      this.runner.off("reload", onReload);
      if (hearsLines) this.runner.off("log", onLog);
      res.end();
    };
    this.runner.on("record", onRecord);
    this.runner.on("reload", onReload);
    if (hearsLines) this.runner.on("log", onLog);
    this.open.add(end);
    req.on("close", end);
    res.on("error", end);
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }
}

/** A reload as clients see it: the outcome, not the runner's internal objects. */
function reloadEvent(result: ReloadView): ReloadView {
  return {
    ok: result.ok,
    durationMs: result.durationMs,
    ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
  };
}
