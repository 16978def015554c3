#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RunletError } from "../errors.js";
import { packageRoot } from "../package-root.js";
import { FlagError, flagHelp, type FlagSpecs } from "./args.js";
import { EXIT, reportError } from "./output.js";

interface Command {
  usage: string;
  summary: string;
  /** Loaded only when the command runs: `validate` need not load the HTTP server. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number>; flags: FlagSpecs }>;
}

/** Every command: the CLI only parses flags and calls the API. */
const COMMANDS: Record<string, Command> = {
  init: { usage: "init [DIR]", summary: "write a new project (jobs.yaml, jobs/hello.ts, tsconfig, scripts); never overwrites a file", load: async () => { const m = await import("./commands/init.js"); return { run: m.initCommand, flags: m.initFlags }; } },
  start: { usage: "start [flags]", summary: "schedule and run the jobs until SIGINT/SIGTERM", load: async () => { const m = await import("./commands/start.js"); return { run: (argv) => m.startCommand(argv), flags: m.startFlags }; } },
  dev: { usage: "dev [flags]", summary: "start --watch --env development, one line per run", load: async () => { const m = await import("./commands/start.js"); return { run: m.devCommand, flags: m.startFlags }; } },
  validate: { usage: "validate [flags]", summary: "check the manifest and compile every handler", load: async () => { const m = await import("./commands/validate.js"); return { run: m.validateCommand, flags: m.validateFlags }; } },
  list: { usage: "list [flags]", summary: "every job, its schedule, mode, enabled, next fires, last run", load: async () => { const m = await import("./commands/list.js"); return { run: m.listCommand, flags: m.listFlags }; } },
  invoke: { usage: "invoke JOB [flags]", summary: "run one job now and print its result as JSON", load: async () => { const m = await import("./commands/invoke.js"); return { run: m.invokeCommand, flags: m.invokeFlags }; } },
  history: { usage: "history [JOB] [flags]", summary: "recent runs from the store, newest first", load: async () => { const m = await import("./commands/history.js"); return { run: m.historyCommand, flags: m.historyFlags }; } },
  logs: { usage: "logs RUNID|JOB [flags]", summary: "the ctx.log lines of a run (or a job's latest run); --follow streams a live one", load: async () => { const m = await import("./commands/logs.js"); return { run: m.logsCommand, flags: m.logsFlags }; } },
  pause: { usage: "pause JOB [flags]", summary: "pause a job in a running runner (RUNLET_URL, RUNLET_TOKEN)", load: async () => { const m = await import("./commands/control.js"); return { run: m.pauseCommand(true), flags: m.pauseFlags }; } },
  resume: { usage: "resume JOB [flags]", summary: "resume a paused job in a running runner", load: async () => { const m = await import("./commands/control.js"); return { run: m.pauseCommand(false), flags: m.pauseFlags }; } },
  trigger: { usage: "trigger JOB [flags]", summary: "run a job now in a running runner; prints the run's record", load: async () => { const m = await import("./commands/control.js"); return { run: m.triggerCommand, flags: m.triggerFlags }; } },
};

const USAGE = `usage: runlet <command> [flags]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join("\n")}

Run \`runlet help <command>\` (or \`runlet <command> --help\`) for a command's flags;
\`runlet --version\` prints the version.
`;

function commandOf(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new RunletError("BAD_INPUT", `unknown command "${name}"; expected one of ${Object.keys(COMMANDS).join(", ")} (see \`runlet --help\`)`);
  return command;
}

async function commandHelp(name: string): Promise<number> {
  const command = commandOf(name);
  const { flags } = await command.load();
  process.stdout.write(`usage: runlet ${command.usage}\n\n${command.summary}\n\nflags:\n${flagHelp(flags)}\n`);
  return EXIT.ok;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-v") {
    const { version } = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string };
    process.stdout.write(`${version}\n`);
    return EXIT.ok;
  }
  if (name === "help" && rest[0]) return commandHelp(rest[0]);
  if (!name || name === "--help" || name === "-h" || name === "help") {
    (name ? process.stdout : process.stderr).write(USAGE);
    return name ? EXIT.ok : EXIT.badInput;
  }
  if (name.startsWith("-")) throw new RunletError("BAD_INPUT", `unknown flag ${name} before a command; see \`runlet --help\``);
  const command = commandOf(name);
  if (rest.includes("--help") || rest.includes("-h")) return commandHelp(name);
  const { run } = await command.load();
  try {
    return await run(rest);
  } catch (err) {
    if (err instanceof FlagError) throw new RunletError("BAD_INPUT", `${err.message}; see \`runlet help ${name}\``, { cause: err });
    throw err;
  }
}

process.setSourceMapsEnabled(true);
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err);
  },
);
