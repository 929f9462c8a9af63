/**
 * Reading a rule directory from disk: the rule files (`*.yaml` / `*.yml`, not `*.test.yaml`) and the
 * test files beside them, in a stable order, with paths as the user typed them.
 *
 * Stage: CLI input → dsl/rules/check.ts.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { RuleSource } from "../rules/check";

export interface RuleDirectory {
  rules: RuleSource[];
  tests: RuleSource[];
}

const YAML = /\.ya?ml$/;
const TEST = /\.test\.ya?ml$/;

/**
 * Which of the files under a rule directory are read, by their path relative to it (`/`-separated):
 * YAML files outside dot-folders and node_modules; `rules` or `tests` (`*.test.yaml`), or null.
 */
export function ruleFileKind(relativePath: string): "rules" | "tests" | null {
  const parts = relativePath.split("/");
  if (!YAML.test(relativePath) || parts.some((part) => part.startsWith(".") || part === "node_modules"))
    return null;
  return TEST.test(relativePath) ? "tests" : "rules";
}

/** Every rule and test file under `dir` (recursively), sorted by path. */
export function readRuleDirectory(dir: string): RuleDirectory {
  const rules: RuleSource[] = [];
  const tests: RuleSource[] = [];
  for (const path of walk(dir)) {
    const name = relative(dir, path);
    const source: RuleSource = { path, text: readFileSync(path, "utf8"), name };
    (ruleFileKind(name.split(sep).join("/")) === "tests" ? tests : rules).push(source);
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
