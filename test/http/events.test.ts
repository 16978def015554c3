import { afterEach, describe, expect, test, vi } from "vitest";
import type { RunRecord } from "../../runner/contracts/index.js";
import { bearer, request, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

interface SseMessage {
  event?: string;
  data?: string;
  comment?: string;
}

/** Reads an SSE response message by message (blank-line separated), as EventSource would. */
function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const queue: SseMessage[] = [];
  return {
    async next(): Promise<SseMessage> {
      while (queue.length === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the event stream ended");
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const msg of parseBlock(block)) queue.push(msg);
        }
      }
      return queue.shift()!;
    },
    /** The next message that `match` accepts; others are passed over. */
    async until(match: (m: SseMessage) => boolean): Promise<SseMessage> {
      for (;;) {
        const m = await this.next();
        if (match(m)) return m;
      }
    },
    cancel: () => reader.cancel(),
  };
}

function parseBlock(block: string): SseMessage[] {
  const out: SseMessage[] = [];
  const msg: SseMessage = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) out.push({ comment: line.slice(1).trim() });
    else if (line.startsWith("event: ")) msg.event = line.slice(7);
    else if (line.startsWith("data: ")) msg.data = (msg.data === undefined ? "" : `${msg.data}\n`) + line.slice(6);
  }
  if (msg.event || msg.data) out.push(msg);
  return out;
}

describe("GET /api/events", () => {
  test("streams a run's records (running, then its end) after an invoke", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const res = await fetch(`${stack.url}/api/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = sseReader(res);
    expect(await events.next()).toEqual({ comment: "connected" });

    const invoked = await request(`${stack.url}/api/jobs/echo/invoke`, { method: "POST", headers: bearer(), json: { params: "live" } });
    const running = await events.until((m) => m.event === "record");
    const ended = await events.until((m) => m.event === "record");
    const [first, last] = [JSON.parse(running.data!) as RunRecord, JSON.parse(ended.data!) as RunRecord];
    expect(first).toMatchObject({ runId: invoked.body.runId, job: "echo", status: "running", trigger: "invoke" });
    expect(last).toMatchObject({ runId: invoked.body.runId, job: "echo", status: "ok", result: { echoed: "live" } });
    await events.cancel();
  });

  test("streams reloads, refused ones with their error code", async () => {
    stack = await startStack();
    const events = sseReader(await fetch(`${stack.url}/api/events`));
    await events.next();
    await stack.runner.reload();
    expect(JSON.parse((await events.until((m) => m.event === "reload")).data!)).toEqual({ ok: true, durationMs: expect.any(Number) });
    stack.project.write("jobs.yaml", "version: 1\njobs:\n  x:\n    handler: jobs/none.ts\n");
    await stack.runner.reload();
    const refused = JSON.parse((await events.until((m) => m.event === "reload")).data!);
    expect(refused).toMatchObject({ ok: false, error: { code: "MANIFEST_INVALID", message: expect.stringContaining("none.ts") } });
    await events.cancel();
  });

  test("sends a heartbeat comment while idle", async () => {
    stack = await startStack({ server: { heartbeatMs: 50 } });
    const events = sseReader(await fetch(`${stack.url}/api/events`));
    expect(await events.next()).toEqual({ comment: "connected" });
    expect(await events.next()).toEqual({ comment: "heartbeat" });
    await events.cancel();
  });

  test("a client that disconnects leaves no listener behind", async () => {
    stack = await startStack();
    const base = { record: stack.runner.listenerCount("record"), reload: stack.runner.listenerCount("reload") };
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const streams = await Promise.all(controllers.map(async (c) => sseReader(await fetch(`${stack!.url}/api/events`, { signal: c.signal }))));
    await Promise.all(streams.map((s) => s.next()));
    expect(stack.runner.listenerCount("record")).toBe(base.record + 3);
    expect(stack.runner.listenerCount("reload")).toBe(base.reload + 3);
    for (const c of controllers) c.abort();
    await vi.waitFor(() => {
      expect(stack!.runner.listenerCount("record")).toBe(base.record);
      expect(stack!.runner.listenerCount("reload")).toBe(base.reload);
    });
  });
});
