#!/usr/bin/env node
import { RunletError } from "../errors.js";
import { flagHelp, type FlagSpecs } from "./args.js";
import { EXIT, reportError } from "./output.js";

interface Command {
  usage: string;
  summary: string;
  /** Loaded only when the command runs: `validate` need not load the HTTP server. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number>; flags: FlagSpecs }>;
}

/** Every command: the CLI only parses flags and calls the API. */
const COMMANDS: Record<string, Command> = {
  start: { usage: "start [flags]", summary: "schedule and run the jobs until SIGINT/SIGTERM", load: async () => { const m = await import("./commands/start.js"); return { run: (argv) => m.startCommand(argv), flags: m.startFlags }; } },
  dev: { usage: "dev [flags]", summary: "start --watch --env development, with human-readable logs", load: async () => { const m = await import("./commands/start.js"); return { run: m.devCommand, flags: m.startFlags }; } },
  validate: { usage: "validate [flags]", summary: "check the manifest and compile every handler", load: async () => { const m = await import("./commands/validate.js"); return { run: m.validateCommand, flags: m.validateFlags }; } },
  list: { usage: "list [flags]", summary: "every job, its schedule, mode, enabled, next fires, last run", load: async () => { const m = await import("./commands/list.js"); return { run: m.listCommand, flags: m.listFlags }; } },
  invoke: { usage: "invoke JOB [flags]", summary: "run one job now and print its result as JSON", load: async () => { const m = await import("./commands/invoke.js"); return { run: m.invokeCommand, flags: m.invokeFlags }; } },
  history: { usage: "history [JOB] [flags]", summary: "recent runs from the store, newest first", load: async () => { const m = await import("./commands/history.js"); return { run: m.historyCommand, flags: m.historyFlags }; } },
};

const USAGE = `usage: runlet <command> [flags]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join("\n")}

Run \`runlet <command> --help\` for a command's flags.
`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(USAGE);
    return name ? EXIT.ok : EXIT.badInput;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new RunletError("BAD_INPUT", `unknown command "${name}"\n\n${USAGE}`);
  const { run, flags } = await command.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`usage: runlet ${command.usage}\n\n${command.summary}\n\nflags:\n${flagHelp(flags)}\n`);
    return EXIT.ok;
  }
  return run(rest);
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
