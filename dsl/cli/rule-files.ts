/**
 * Reading a rule directory from disk: the rule files (`*.yaml` / `*.yml`, not `*.test.yaml`) and the
 * test files beside them, in a stable order, with paths as the user typed them.
 *
 * Stage: CLI input → dsl/rules/check.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { RuleSource } from "../rules/check";

export interface RuleDirectory {
  rules: RuleSource[];
  tests: RuleSource[];
}

const YAML = /\.ya?ml$/;
const TEST = /\.test\.ya?ml$/;

/** Every rule and test file under `dir` (recursively), sorted by path. */
export function readRuleDirectory(dir: string): RuleDirectory {
  const rules: RuleSource[] = [];
  const tests: RuleSource[] = [];
  for (const path of walk(dir)) {
    const source: RuleSource = { path, text: readFileSync(path, "utf8"), name: relative(dir, path) };
    (TEST.test(path) ? tests : rules).push(source);
  }
  return { rules, tests };
}

function walk(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".") || name === "node_modules") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...walk(path));
    else if (YAML.test(name)) found.push(path);
  }
  return found;
}
