#!/usr/bin/env node
import { RunletError } from "../errors.js";
import { flagHelp, type FlagSpecs } from "./args.js";
import { historyCommand, historyFlags } from "./commands/history.js";
import { invokeCommand, invokeFlags } from "./commands/invoke.js";
import { listCommand, listFlags } from "./commands/list.js";
import { devCommand, startCommand, startFlags } from "./commands/start.js";
import { validateCommand, validateFlags } from "./commands/validate.js";
import { EXIT, reportError } from "./output.js";

/** Every command: name → handler of its argv. The CLI only parses flags and calls the API. */
const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; flags: FlagSpecs; usage: string; summary: string }> = {
  start: { run: (argv) => startCommand(argv), flags: startFlags, usage: "start [flags]", summary: "schedule and run the jobs until SIGINT/SIGTERM" },
  dev: { run: devCommand, flags: startFlags, usage: "dev [flags]", summary: "start --watch --env development, with human-readable logs" },
  validate: { run: validateCommand, flags: validateFlags, usage: "validate [flags]", summary: "check the manifest and compile every handler" },
  list: { run: listCommand, flags: listFlags, usage: "list [flags]", summary: "every job, its schedule, mode, enabled, next fires" },
  invoke: { run: invokeCommand, flags: invokeFlags, usage: "invoke JOB [flags]", summary: "run one job now and print its result as JSON" },
  history: { run: historyCommand, flags: historyFlags, usage: "history [JOB] [flags]", summary: "recent runs from the store, newest first" },
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
  const command = COMMANDS[name];
  if (!command) throw new RunletError("BAD_INPUT", `unknown command "${name}"\n\n${USAGE}`);
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`usage: runlet ${command.usage}\n\n${command.summary}\n\nflags:\n${flagHelp(command.flags)}\n`);
    return EXIT.ok;
  }
  return command.run(rest);
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
