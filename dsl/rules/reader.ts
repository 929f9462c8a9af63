/**
 * Reading the shape of rule files: typed accessors over the positioned YAML tree that report
 * `schema_violation`, `bad_duration` and `bad_money` at the offending node instead of throwing, and
 * a "did you mean" for misspelt keys. Mirrors dsl/rules.schema.json (the editor-facing schema).
 *
 * Stage: helpers of dsl/rules/check.ts (load → read shape → check references and expressions).
 */
import type { Diagnostic, DiagnosticCode, Span } from "../errors";
import { currencyDigits, isKnownCurrency } from "../expr/fields";
import type { Money } from "../expr/types";
import { closest } from "../suggest";
import {
  diagnosticAt,
  expressionSpan,
  positionOf,
  type SourceFile,
  type YamlMap,
  type YamlNode,
  type YamlScalar,
} from "./load";

const KEY_RE = /^[a-z][a-z0-9_]*$/;
const DURATION_RE = /^(\d+(w|d|h|m|s))+$/;
const UNIT_MS: Record<string, number> = { w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
const SIGILS: Record<string, string | null> = { $: null, "€": "EUR", "£": "GBP" };

/** Collects diagnostics for one ruleset, up to a cap, and knows each file's text. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(private readonly cap: number) {}

  get full(): boolean {
    return this.diagnostics.length >= this.cap;
  }

  add(diagnostic: Diagnostic): void {
    const duplicate = this.diagnostics.some(
      (d) =>
        d.code === diagnostic.code &&
        d.file === diagnostic.file &&
        d.line === diagnostic.line &&
        d.column === diagnostic.column,
    );
    if (!duplicate && !this.full) this.diagnostics.push(diagnostic);
  }

  at(source: SourceFile, span: Span, code: DiagnosticCode, message: string, hint?: string): void {
    this.add(diagnosticAt(source, span, code, message, hint));
  }

  node(source: SourceFile, node: YamlNode, code: DiagnosticCode, message: string, hint?: string): void {
    this.at(source, { start: node.start, end: spanEnd(source, node) }, code, message, hint);
  }
}

/** Where a node's underline should end: the end of its first line, so carets stay on one line. */
function spanEnd(source: SourceFile, node: YamlNode): number {
  const newline = source.text.indexOf("\n", node.start);
  const lineEnd = newline === -1 ? source.text.length : newline;
  return Math.max(node.start + 1, Math.min(node.end, lineEnd));
}

/** Reads nodes of one file, reporting shape errors through the reporter. */
export class Reader {
  constructor(
    readonly source: SourceFile,
    readonly report: Reporter,
  ) {}

  describe(node: YamlNode): string {
    if (node.kind === "map") return "a mapping";
    if (node.kind === "seq") return "a list";
    if (node.value === null) return "nothing";
    return typeof node.value === "string" ? `text "${node.value}"` : `${typeof node.value} ${node.value}`;
  }

  fail(node: YamlNode, code: DiagnosticCode, message: string, hint?: string): undefined {
    this.report.node(this.source, node, code, message, hint);
    return undefined;
  }

  map(node: YamlNode, what: string): YamlMap | undefined {
    if (node.kind === "map") return node;
    return this.fail(node, "schema_violation", `${what} must be a mapping, found ${this.describe(node)}`);
  }

  seq(node: YamlNode, what: string): YamlNode[] | undefined {
    if (node.kind === "seq") return node.items;
    return this.fail(node, "schema_violation", `${what} must be a list, found ${this.describe(node)}`);
  }

  /**
   * The pairs of a mapping as a lookup, reporting keys outside `allowed` (with a suggestion) and
   * missing `required` keys (at the mapping).
   */
  fields(
    map: YamlMap,
    what: string,
    allowed: readonly string[],
    required: readonly string[] = [],
  ): Map<string, YamlNode> {
    const found = new Map<string, YamlNode>();
    for (const pair of map.pairs) {
      const name = String(pair.key.value);
      if (!allowed.includes(name)) {
        const suggestion = closest(name, allowed);
        this.report.node(
          this.source,
          pair.key,
          "schema_violation",
          `unknown field \`${name}\` in ${what}`,
          suggestion ? `did you mean \`${suggestion}\`?` : `allowed: ${allowed.join(", ")}`,
        );
        continue;
      }
      found.set(name, pair.value);
    }
    for (const name of required) {
      if (!found.has(name) && !map.pairs.some((p) => p.key.value === name)) {
        this.report.at(
          this.source,
          { start: map.start, end: Math.max(map.start + 1, map.pairs[0]?.key.end ?? map.start + 1) },
          "schema_violation",
          `${what} needs \`${name}\``,
        );
      }
    }
    return found;
  }

  string(node: YamlNode, what: string): string | undefined {
    if (node.kind === "scalar" && typeof node.value === "string") return node.value;
    return this.fail(node, "schema_violation", `${what} must be text, found ${this.describe(node)}`);
  }

  /** A lower_snake_case key (rule names, references). */
  key(node: YamlNode, what: string): string | undefined {
    const text = this.string(node, what);
    if (text === undefined) return undefined;
    if (!KEY_RE.test(text) || text.length > 64) {
      return this.fail(
        node,
        "schema_violation",
        `${what} \`${text}\` must be lower_snake_case (a-z, 0-9, _), at most 64 characters`,
      );
    }
    return text;
  }

  keyList(node: YamlNode, what: string): { key: string; node: YamlNode }[] | undefined {
    const items = node.kind === "scalar" && typeof node.value === "string" ? [node] : this.seq(node, what);
    if (!items) return undefined;
    if (items.length === 0) return this.fail(node, "schema_violation", `${what} must not be empty`);
    const keys: { key: string; node: YamlNode }[] = [];
    for (const item of items) {
      const key = this.key(item, what);
      if (key !== undefined) keys.push({ key, node: item });
    }
    return keys;
  }

  integer(node: YamlNode, what: string, min: number, max: number): number | undefined {
    if (node.kind === "scalar" && typeof node.value === "number" && Number.isInteger(node.value)) {
      if (node.value < min || node.value > max) {
        return this.fail(
          node,
          "schema_violation",
          `${what} must be between ${min} and ${max}, found ${node.value}`,
        );
      }
      return node.value;
    }
    return this.fail(
      node,
      "schema_violation",
      `${what} must be a whole number, found ${this.describe(node)}`,
    );
  }

  number(node: YamlNode, what: string, min: number, max: number): number | undefined {
    if (node.kind === "scalar" && typeof node.value === "number" && Number.isFinite(node.value)) {
      if (node.value < min || node.value > max) {
        return this.fail(
          node,
          "schema_violation",
          `${what} must be between ${min} and ${max}, found ${node.value}`,
        );
      }
      return node.value;
    }
    return this.fail(node, "schema_violation", `${what} must be a number, found ${this.describe(node)}`);
  }

  boolean(node: YamlNode, what: string): boolean | undefined {
    if (node.kind === "scalar" && typeof node.value === "boolean") return node.value;
    return this.fail(node, "schema_violation", `${what} must be true or false, found ${this.describe(node)}`);
  }

  /** `14d`, `12h`, `1d12h`, `30m`, `2w`, `45s` → milliseconds (positive, at most `maxMs`). */
  duration(node: YamlNode, what: string, maxMs: number): number | undefined {
    const text = node.kind === "scalar" ? node.value : null;
    if (typeof text !== "string" || !DURATION_RE.test(text)) {
      return this.fail(
        node,
        "bad_duration",
        `${what} must be a duration such as 14d, 12h, 30m or 2w, found ${this.describe(node)}`,
        typeof text === "number" ? `write ${text}d for ${text} days` : undefined,
      );
    }
    let ms = 0;
    for (const part of text.matchAll(/(\d+)(w|d|h|m|s)/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
    if (ms <= 0 || ms > maxMs)
      return this.fail(
        node,
        "bad_duration",
        `${what} must be longer than zero and at most ${maxMs / UNIT_MS.d!}d`,
      );
    return ms;
  }

  /** `$20`, `$19.99`, `€5`, `£5`, `20 EUR` → integer minor units with the currency. */
  money(node: YamlNode, what: string, defaultCurrency: string): Money | undefined {
    const text = node.kind === "scalar" ? node.value : null;
    if (typeof text !== "string") {
      return this.fail(
        node,
        "bad_money",
        `${what} must be an amount such as $20 or 20 EUR, found ${this.describe(node)}`,
      );
    }
    const sigil = /^([$€£])(\d+(?:\.\d+)?)$/.exec(text);
    const coded = /^(\d+(?:\.\d+)?) ([A-Z]{3})$/.exec(text);
    const amountText = sigil?.[2] ?? coded?.[1];
    const currency = sigil ? (SIGILS[sigil[1]!] ?? defaultCurrency) : coded?.[2];
    if (amountText === undefined || currency === undefined) {
      return this.fail(
        node,
        "bad_money",
        `${what} must be an amount such as $20, $19.99 or 20 EUR, found "${text}"`,
      );
    }
    if (!isKnownCurrency(currency)) return this.fail(node, "bad_money", `unknown currency \`${currency}\``);
    const digits = currencyDigits(currency);
    const [whole = "0", fraction = ""] = amountText.split(".");
    if (fraction.length > digits) {
      return this.fail(
        node,
        "bad_money",
        `${currency} has ${digits} decimal places; "${text}" has ${fraction.length}`,
      );
    }
    const amount = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
    if (!Number.isSafeInteger(amount) || amount <= 0)
      return this.fail(node, "bad_money", `${what} must be a positive amount`);
    return { amount, currency };
  }

  /** Optional text. */
  optionalString(node: YamlNode | undefined, what: string): string | null {
    return node === undefined ? null : (this.string(node, what) ?? null);
  }

  /** `file:line:col` of a node. */
  where(node: YamlNode): string {
    const { line, column } = positionOf(this.source, node.start);
    return `${this.source.path}:${line}:${column}`;
  }

  /** Reports an error inside a string scalar at a span relative to the scalar's value. */
  inside(scalar: YamlScalar, span: Span, code: DiagnosticCode, message: string, hint?: string): void {
    this.report.at(this.source, expressionSpan(this.source, scalar, span), code, message, hint);
  }
}
