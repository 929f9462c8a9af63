/**
 * The `rebound` command line: `validate`, `test`, `explain`, `preview` and `build` over a rule
 * directory; `plan` and `tick` against a running Worker. Human output (colour on a TTY) by default,
 * `--format json` for CI everywhere (`plan` also writes markdown). Exit codes: 0 ok, 1 rule errors or
 * failing tests, 2 wrong usage, unreadable input or a Worker that cannot be reached or refuses.
 *
 * Stage: Node-only front end of the language. Imports point one way: this file picks a command
 * (dsl/cli/<command>.ts), which uses the shared parts (command.ts, args.ts, load-rules.ts).
 * dsl/cli/bin.mjs runs it, from the bundle `npm run build:cli` writes when that is up to date.
 */

import { commandName, parseArgs } from "./args";
import { buildCommand } from "./build";
import { COMMON_OPTIONS, type Command, type Io, processIo, UsageError } from "./command";
import { explainCommand } from "./explain";
import { planCommand } from "./plan";
import { previewCommand } from "./preview";
import { testCommand } from "./test";
import { tickCommand } from "./tick";
import { validateCommand } from "./validate";

export type { Io } from "./command";

const COMMANDS: readonly Command[] = [
  validateCommand,
  testCommand,
  explainCommand,
  previewCommand,
  buildCommand,
  planCommand,
  tickCommand,
];

const ALL_OPTIONS = Object.assign({}, COMMON_OPTIONS, ...COMMANDS.map((c) => c.options));

const COMMON_HELP = [
  ["--format json", "machine-readable output"],
  ["-h, --help", "this help"],
] as const;

const USAGE = `Usage: rebound <command> [options]

Commands:
${COMMANDS.map((c) => helpLines(c.synopsis, c.summary)).join("")}  help [command]                 this help, or one command's

Options:
${COMMON_HELP.map(([option, what]) => helpLines(option, what)).join("")}`;

/** `rebound <command> --help`: the synopsis, what it does, and every option it takes. */
function commandUsage(command: Command): string {
  const options = [...command.optionHelp, ...COMMON_HELP];
  return `Usage: rebound ${command.synopsis.replace(/\n/g, "\n       ")}

${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.

Options:
${options.map(([option, what]) => helpLines(option, what)).join("")}`;
}

/** Two columns: the left one padded to 31 characters, wrapped lines indented under it. */
function helpLines(left: string, right: string): string {
  const lines = left.split("\n").map((line) => `  ${line}`);
  const last = lines.at(-1)!;
  if (last.length < 32) lines[lines.length - 1] = `${last.padEnd(33)}${right}`;
  else lines.push(`${"".padEnd(33)}${right}`);
  return `${lines.join("\n")}\n`;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const name = commandName(argv, ALL_OPTIONS);
  const command = COMMANDS.find((c) => c.name === name);
  try {
    if (!command) return general(argv, name, io);
    const args = parseArgs(argv, { ...command.options, ...COMMON_OPTIONS }, command.optionalValues);
    if (args.options.has("help")) {
      io.out(commandUsage(command));
      return 0;
    }
    const format = args.options.get("format");
    const formats = ["json", "human", ...(command.extraFormats ?? [])];
    if (format !== undefined && !formats.includes(String(format))) {
      throw new UsageError(
        `--format is ${formats.join(", ").replace(/, ([^,]*)$/, " or $1")}, not ${String(format)}`,
      );
    }
    return await command.run(args, format === "json", io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n`);
      if (error.showUsage) io.err(`\n${command ? commandUsage(command) : USAGE}`);
      return 2;
    }
    throw error;
  }
}

/** No command, `help [command]`, `--help`, or a command that does not exist. */
function general(argv: readonly string[], name: string | undefined, io: Io): number {
  const args = parseArgs(argv, COMMON_OPTIONS);
  if (name === "help") {
    const topic = COMMANDS.find((c) => c.name === args.positional[1]);
    if (args.positional[1] !== undefined && !topic) {
      io.err(`unknown command \`${args.positional[1]}\`\n\n${USAGE}`);
      return 2;
    }
    io.out(topic ? commandUsage(topic) : USAGE);
    return 0;
  }
  if (name === undefined && args.options.has("help")) {
    io.out(USAGE);
    return 0;
  }
  if (name === undefined) {
    io.err(USAGE);
    return 2;
  }
  io.err(`unknown command \`${name}\`\n\n${USAGE}`);
  return 2;
}
