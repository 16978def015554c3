import { LEVEL_VALUES, type LogLevelName, type RunLogLine, type RunLogs, type RunRecord } from "../../contracts/index.js";
import type { RunDetail } from "../../http/run-routes.js";

/** One kept line, with the run it belongs to and its place in that run's log. */
export type Print = (line: RunLogLine & { runId: string; job: string; seq: number }) => void;

/**
 * Writes lines to stdout: `TIME LEVEL message {fields}`, or one JSON object each. When
 * the lines of several runs follow one another (`logs JOB --follow`), each text line
 * names its run by the short id `history` shows: `TIME LEVEL [1a2b3c4d] message`.
 */
export function printer(json: boolean, level: LogLevelName, markRuns: boolean): Print {
  const min = LEVEL_VALUES[level];
  return (line) => {
    if (LEVEL_VALUES[line.level] < min) return;
    if (json) {
      process.stdout.write(`${JSON.stringify({ runId: line.runId, job: line.job, seq: line.seq, level: line.level, time: line.time, msg: line.msg, fields: line.fields ?? null, attempt: line.attempt })}\n`);
      return;
    }
    const fields = line.fields ? ` ${JSON.stringify(line.fields)}` : "";
    const run = markRuns ? `[${line.runId.slice(0, 8)}] ` : "";
    process.stdout.write(`${line.time} ${line.level.toUpperCase().padEnd(5)} ${run}${line.msg}${fields}\n`);
  };
}

/** Prints the lines of `logs` from seq `from` on; returns the seq after the last printed. */
export function printLogs(run: Pick<RunRecord, "runId" | "job">, logs: RunLogs | null, from: number, print: Print): number {
  const dropped = logs?.dropped ?? 0;
  if (from === 0 && dropped > 0) process.stderr.write(`runlet: ${dropped} earlier line${dropped === 1 ? "" : "s"} of run ${run.runId} were dropped (beyond logs.keep or 256 KiB)\n`);
  const lines = logs?.lines ?? [];
  for (let i = Math.max(0, from - dropped); i < lines.length; i++) print({ ...lines[i]!, runId: run.runId, job: run.job, seq: dropped + i });
  return Math.max(from, dropped + lines.length);
}

/** The same, of a run as `GET /api/runs/:runId` gives it. */
export function printDetail(detail: RunDetail, print: Print, from = 0): number {
  return printLogs(detail.run, { runId: detail.run.runId, job: detail.run.job, lines: detail.logs.lines, dropped: detail.logs.dropped }, from, print);
}
