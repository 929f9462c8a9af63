/**
 * What every `rebound` command is and gets: its options, its usage text, the parsed arguments, where
 * it writes, and the error that means "wrong usage" (exit code 2).
 *
 * Stage: CLI. dsl/cli/main.ts picks a command; dsl/cli/args.ts parses its arguments; the command runs.
 */
import type { ParseArgsConfig } from "node:util";

/** Where a command writes: stdout, stderr, and whether stdout is a terminal (for colour). */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

/** The real process streams. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
  };
}

/** Parsed command-line arguments: positionals (the command first) and `--name value` / `--flag` options. */
export interface Args {
  positional: string[];
  options: Map<string, string | true>;
}

/** A command's options, as node:util `parseArgs` takes them. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** One `rebound` command. */
export interface Command {
  name: string;
  /** The synopsis lines (after `rebound `) and a one-line description, for both usage texts. */
  synopsis: string;
  summary: string;
  /** Its own options besides `--format` and `--help`, and their help lines. */
  options: Options;
  optionHelp: readonly (readonly [string, string])[];
  /** String options that may also stand alone (`--offer` or `--offer name`): alone they read as `true`. */
  optionalValues?: readonly string[];
  /** The `--format` values it takes besides `human` and `json` (`plan` also writes `markdown`). */
  extraFormats?: readonly string[];
  /** Commands that call a Worker answer a promise. */
  run(args: Args, json: boolean, io: Io): number | Promise<number>;
}

/** Wrong usage or unreadable input: exit code 2 with a one-line message. */
export class UsageError extends Error {
  /** Whether the command's usage follows the message (wrong arguments, not unreadable input). */
  readonly showUsage: boolean;
  constructor(message: string, options: { showUsage?: boolean } = {}) {
    super(message);
    this.showUsage = options.showUsage ?? false;
  }
}
