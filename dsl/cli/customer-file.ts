/**
 * The `--customer <file> --at <time>` pair that `rebound explain` and `rebound preview` share: reads
 * the YAML customer file (the customer itself, or `{customer, events, history}`) as of `--at`.
 *
 * A value written wrongly is named with its place in the file (`c.yaml:3:8: customer.ltv: …`) and a
 * hint when there is one (money written as a bare number).
 *
 * Stage: CLI input, before dsl/cli/customer-input.ts turns it into an evaluation context.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { loadRuleFile, positionOf } from "../rules/load";
import type { Ruleset } from "../runtime/ruleset";
import { UsageError } from "./command";
import { type CustomerInput, customerInput, InputError, parseAtOption } from "./customer-input";
import { keyAtPath, nodeAtPath } from "./input-location";

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
  let data: unknown;
  try {
    data = parse(text);
  } catch (error) {
    throw new UsageError(`${file}: ${(error as Error).message}`);
  }
  const hasSections = typeof data === "object" && data !== null && "customer" in data;
  try {
    const wrapped = hasSections ? (data as Record<string, unknown>) : { customer: data ?? {} };
    return { ...customerInput(ruleset, wrapped, at), at };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new UsageError(`${locate(file, text, hasSections ? error.path : error.path.slice(1), error)}`);
  }
}

/** `file:line:col: message` (and the hint) for an error at `path` in the file's own layout. */
function locate(file: string, text: string, path: readonly (string | number)[], error: InputError): string {
  const loaded = loadRuleFile(file, text);
  const hint = error.hint ? `\n  hint: ${error.hint}` : "";
  if (!loaded.root) return `${file}: ${error.message}${hint}`;
  const unknownField = /: unknown field /.test(error.message);
  const node = (unknownField ? keyAtPath(loaded.root, path) : undefined) ?? nodeAtPath(loaded.root, path);
  const { line, column } = positionOf(loaded.source, node.start);
  return `${file}:${line}:${column}: ${error.message}${hint}`;
}
