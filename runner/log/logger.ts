import { pino, type Logger as PinoLogger } from "pino";
import { devLine } from "./dev-lines.js";

/** The structured logger runlet uses everywhere: pino, JSON lines on stderr. */
export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Human-readable lines instead of JSON (`runlet dev`, or stderr is a TTY). @default false */
  pretty?: boolean;
  /** `runlet dev`'s terminal lines: one per run end (`✓ heartbeat 1 ms`), detail on failure. Wins over `pretty`. @default false */
  dev?: boolean;
  /** @default "info" (or `LOG_LEVEL`) */
  level?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  if (options.dev) {
    // Formatted on the main thread, written synchronously: a line per run is little to write.
    return pino({ level }, { write: (line: string) => void writeDevLine(line) });
  }
  if (options.pretty) {
    return pino(
      { level },
      pino.transport({ target: "pino-pretty", options: { destination: 2, translateTime: "HH:MM:ss.l", ignore: "pid,hostname" } }),
    );
  }
  return pino({ level }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything: for library use and tests that do not read logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

function writeDevLine(line: string): void {
  const text = devLine(line.trimEnd());
  if (text) process.stderr.write(`${text}\n`);
}
