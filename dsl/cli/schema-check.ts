/**
 * The published JSON Schema (dsl/rules.schema.json), applied to rule files in Node with ajv. The
 * checker's own reading of the files is authoritative; this pass makes sure the schema editors use
 * never drifts from it: a file the checker accepts but the schema rejects is reported, located.
 *
 * Stage: CLI (`validate`, `build`). Node only (dsl/cli/schema-validator.ts), never in the Worker.
 */
import type { ValidateFunction } from "ajv";
import { parse } from "yaml";
import type { Diagnostic } from "../errors";
import type { RuleSource } from "../rules/check";
import { diagnosticAt, getPair, loadRuleFile, type YamlNode } from "../rules/load";
import rulesSchema from "../rules.schema.json";
import { rulesValidator } from "./schema-validator";

let validator: ValidateFunction | undefined;

/** Schema errors of files the checker found no error in (one per file, located). */
export function schemaDiagnostics(
  files: readonly RuleSource[],
  alreadyReported: readonly Diagnostic[],
): Diagnostic[] {
  validator ??= rulesValidator();
  const out: Diagnostic[] = [];
  for (const file of files) {
    if (alreadyReported.some((d) => d.file === file.path)) continue;
    let data: unknown;
    try {
      data = parse(file.text);
    } catch {
      continue;
    }
    if (data === null || data === undefined || validator(data)) continue;
    const error = validator.errors?.[0];
    if (!error) continue;
    const loaded = loadRuleFile(file.path, file.text);
    const node = nodeAt(loaded.root, error.instancePath);
    const span = node ? { start: node.start, end: Math.max(node.start + 1, node.end) } : { start: 0, end: 1 };
    out.push(
      diagnosticAt(
        loaded.source,
        span,
        "schema_violation",
        `${error.instancePath || "the file"} ${error.message ?? "does not match the schema"} (rules.schema.json)`,
      ),
    );
  }
  return out;
}

function nodeAt(root: YamlNode | null, pointer: string): YamlNode | null {
  let node = root;
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!node) return null;
    if (node.kind === "map") node = getPair(node, part)?.value ?? null;
    else if (node.kind === "seq") node = node.items[Number(part)] ?? null;
    else return node;
  }
  return node;
}

/**
 * The schema file as published beside the language. Imported rather than read at run time, so the
 * bundled CLI (dist/cli/rebound.mjs) carries it and finds it wherever the bundle lives.
 */
export function readSchema(): object {
  return structuredClone(rulesSchema) as object;
}
