/**
 * The `--customer <file> --at <time>` pair that `rebound explain` and `rebound preview` share: reads
 * the YAML customer file (the customer itself, or `{customer, events, history}`) as of `--at`.
 *
 * Stage: CLI input, before dsl/cli/customer-input.ts turns it into an evaluation context.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { Ruleset } from "../runtime/ruleset";
import { UsageError } from "./command";
import { type CustomerInput, customerInput, parseAtOption } from "./customer-input";

/**
 * Reads a customer file for `ruleset` at the `--at` moment.
 *
 * @throws UsageError for a bad `--at`, an unreadable file, or a customer the file describes wrongly
 */
export function readCustomerFile(
  ruleset: Ruleset,
  file: string,
  atText: string,
): CustomerInput & { at: number } {
  let at: number;
  try {
    at = parseAtOption(atText);
  } catch (error) {
    // About the option, not the customer file: no file name in front of it.
    throw new UsageError((error as Error).message);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const data: unknown = parse(text);
    const wrapped =
      typeof data === "object" && data !== null && "customer" in data
        ? (data as Record<string, unknown>)
        : { customer: data ?? {} };
    return { ...customerInput(ruleset, wrapped, at), at };
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
}
