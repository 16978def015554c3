import { connect } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import { request, startStack, TOKEN, type Stack } from "./helpers.js";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const BODY = 300 * 1024 * 1024;

interface Outcome {
  /** The answer as the client read it, up to the server's end of stream. */
  response: string;
  /** Whether the client read the server's end of stream (a half-close, not a reset first). */
  ended: boolean;
  /** Body bytes the client got onto the wire before the connection was cut. */
  written: number;
}

/**
 * A client on a raw socket that announces a 300 MB body and sends it as fast as the
 * server lets it, as an attacker would; optionally chunked, with real chunk framing.
 */
function sendHugeBody(port: number, headers: string[], chunked: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const outcome: Outcome = { response: "", ended: false, written: 0 };
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const frame = chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from("\r\n")]) : piece;
    socket.on("data", (data: Buffer) => (outcome.response += data.toString()));
    socket.on("end", () => (outcome.ended = true));
    // The server cuts the connection in the end; the client then sees EPIPE or ECONNRESET.
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(outcome));
    const length = chunked ? "transfer-encoding: chunked" : `content-length: ${BODY}`;
    socket.write(["POST /api/jobs/echo/invoke HTTP/1.1", `host: 127.0.0.1:${port}`, "content-type: application/json", length, ...headers, "", ""].join("\r\n"));
    const pump = () => {
      while (outcome.written < BODY && !socket.destroyed) {
        outcome.written += piece.length;
        if (!socket.write(frame)) return void socket.once("drain", pump);
      }
    };
    pump();
  });
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0);
}

describe("a refused request's body is never read", () => {
  test("an unauthenticated 300 MB body off loopback: 401 answered and the connection closed, the body not read", async () => {
    stack = await startStack({ server: { host: "0.0.0.0", token: TOKEN } });
    const outcome = await sendHugeBody(stack.server.port, [], false);
    expect(statusOf(outcome.response)).toBe(401);
    expect(outcome.response).toMatch(/\r\nconnection: close\r\n/i);
    expect(outcome.response).toContain('"code":"UNAUTHORIZED"');
    expect(outcome.ended).toBe(true);
    // What fits in the two kernels' socket buffers, not the 300 MB.
    expect(outcome.written).toBeLessThan(64 * 1024 * 1024);
    expect(await stack.runner.store.history({ limit: 5 })).toEqual([]);
    expect((await request(`${stack.url.replace("0.0.0.0", "127.0.0.1")}/healthz`)).status).toBe(200);
  });

  test("an unauthenticated chunked body on loopback: 401, closed, not read to its end", async () => {
    stack = await startStack({ server: { token: TOKEN } });
    const outcome = await sendHugeBody(stack.server.port, [], true);
    expect(statusOf(outcome.response)).toBe(401);
    expect(outcome.ended).toBe(true);
    expect(outcome.written).toBeLessThan(64 * 1024 * 1024);
  });

  test("an authorized body declared too large: 413 before a byte is read, the client reads it, then the end", async () => {
    stack = await startStack({ server: { token: TOKEN, maxBodyBytes: 64 * 1024 } });
    const outcome = await sendHugeBody(stack.server.port, [`authorization: Bearer ${TOKEN}`], false);
    expect(statusOf(outcome.response)).toBe(413);
    expect(outcome.response).toContain('"code":"PAYLOAD_TOO_LARGE"');
    expect(outcome.ended).toBe(true);
    expect(outcome.written).toBeLessThan(64 * 1024 * 1024);
  });

  test("an authorized chunked body that grows past the limit: 413, not a reset", async () => {
    stack = await startStack({ server: { token: TOKEN, maxBodyBytes: 64 * 1024 } });
    const outcome = await sendHugeBody(stack.server.port, [`authorization: Bearer ${TOKEN}`], true);
    expect(statusOf(outcome.response)).toBe(413);
    expect(outcome.ended).toBe(true);
    expect(outcome.written).toBeLessThan(64 * 1024 * 1024);
    expect(await stack.runner.store.history({ limit: 5 })).toEqual([]);
    expect((await request(`${stack.url}/healthz`)).status).toBe(200);
  });
});
