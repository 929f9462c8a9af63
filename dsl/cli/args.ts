/**
 * Command-line arguments, read by node:util `parseArgs` in strict mode against one command's options:
 * an unknown flag, a missing value or a value given to a flag is a usage error naming the flag.
 *
 * Stage: CLI input, between dsl/cli/main.ts (which command) and the command itself.
 */
import { parseArgs as parseNodeArgs } from "node:util";
import { closest } from "../suggest";
import { type Args, type Options, UsageError } from "./command";

/**
 * Parses `argv` (the command name included, as the first positional) against `options`.
 * `optionalValues` are string options that may stand alone: a bare `--offer` (last, or followed by
 * another option) reads as `true`, `--offer name` as `"name"`.
 *
 * @example parseArgs(["build", "rules", "--out", "x"], { out: { type: "string" } })
 *   // → { positional: ["build", "rules"], options: Map { "out" => "x" } }
 * @throws UsageError naming the flag, for an unknown flag or a missing or unexpected value
 */
export function parseArgs(
  argv: readonly string[],
  options: Options,
  optionalValues: readonly string[] = [],
): Args {
  const args = withOptionalValues(argv, optionalValues);
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    if (!(error instanceof Error && String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")))
      throw error;
    throw new UsageError(problemIn(args, options) ?? error.message.split("\n")[0]!, { showUsage: true });
  }
  const values = new Map<string, string | true>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined || value === false) continue;
    // `--out=` names no folder: as much a missing value as a trailing `--out`.
    if (value === "" && !optionalValues.includes(name)) {
      throw new UsageError(`--${name} needs a value`, { showUsage: true });
    }
    // A bare optional-value option was written `--name=` below.
    values.set(
      name,
      value === true || (value === "" && optionalValues.includes(name)) ? true : String(value),
    );
  }
  return { positional: parsed.positionals, options: values };
}

/**
 * The command's name: the first positional when every command's options are known, so options may
 * come before it (`rebound --format json validate`). Lenient: the command's own parse is the strict one.
 */
export function commandName(argv: readonly string[], allOptions: Options): string | undefined {
  return parseNodeArgs({ args: [...argv], options: allOptions, strict: false, allowPositionals: true })
    .positionals[0];
}

/** `--offer` standing alone (at the end, or before another option) becomes `--offer=`. */
function withOptionalValues(argv: readonly string[], optionalValues: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    const alone = next === undefined || next.startsWith("-");
    out.push(arg.startsWith("--") && optionalValues.includes(arg.slice(2)) && alone ? `${arg}=` : arg);
  }
  return out;
}

/** Names what strict parsing refused, by reading the arguments again leniently. */
function problemIn(args: readonly string[], options: Options): string | undefined {
  const { tokens } = parseNodeArgs({
    args: [...args],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const option = options[token.name];
    if (!option) {
      const suggestion = closest(token.name, Object.keys(options));
      return `unknown option ${token.rawName}${suggestion ? ` (did you mean --${suggestion}?)` : ""}`;
    }
    if (option.type === "boolean" && token.value !== undefined) return `${token.rawName} takes no value`;
    if (option.type === "string") {
      if (token.value === undefined) return `${token.rawName} needs a value`;
      if (!token.inlineValue && token.value.length > 1 && token.value.startsWith("-"))
        return `${token.rawName} needs a value (for one that starts with a dash, write ${token.rawName}=${token.value})`;
    }
  }
  return undefined;
}
