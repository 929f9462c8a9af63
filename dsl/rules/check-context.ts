/**
 * The checker's shared state and building blocks: the merged sections of every rule file, the
 * diagnostics collected so far, the expression scope, and the helpers every section reader uses
 * (expressions, references with "did you mean", message uses, SQL translation at validate time).
 *
 * Stage: part of check (dsl/rules/check.ts drives it; dsl/check-*.ts read one kind of rule each).
 */

import type { Diagnostic, ExprDiagnostic } from "../errors";
import { parseExpression } from "../expr/parser";
import { expressionToSql, membershipSql, SqlTranslationError } from "../expr/sql";
import { checkExpression } from "../expr/typecheck";
import type { ExprType, Scope, SegmentInfo, SqlFragment } from "../expr/types";
import { LIMITS } from "../limits";
import { closest } from "../suggest";
import { checkTimeZone } from "../time/zones";
import { loadRuleFile, type YamlNode, type YamlScalar } from "./load";
import { Reader, Reporter } from "./reader";
import type { ExpressionIR } from "./ruleset";
import type { MessageContext } from "./template";

/** One rule file as read from disk (or from a test). */
export interface RuleSource {
  /** Shown in diagnostics (relative to the working directory). */
  path: string;
  text: string;
  /** Name inside the ruleset, hashed into the version (defaults to `path`). */
  name?: string;
}

export const SECTIONS = [
  "settings",
  "reasons",
  "plans",
  "fields",
  "segments",
  "rewards",
  "offers",
  "offer_policy",
  "frequency_caps",
  "messages",
  "inactivity",
  "dunning",
  "card_expiry",
  "winback",
  "campaigns",
  "billing",
] as const;
export type Section = (typeof SECTIONS)[number];

export const BOOLEAN: ExprType = { kind: "boolean" };
export const MAX_DAY = 3650;

/** A section entry (a map entry or a list item with `key`) and the file it came from. */
export interface Entry {
  key: string;
  keyNode: YamlNode;
  value: YamlNode;
  reader: Reader;
}

/** Where a message is sent from, for template-variable checks. */
export interface MessageUse {
  message: string;
  node: YamlNode;
  reader: Reader;
  context: MessageContext;
  by: string;
}

/** The rule files being checked, and everything found in them so far. */
export class CheckContext {
  readonly report = new Reporter(LIMITS.maxDiagnostics);
  readonly sections = new Map<Section, { node: YamlNode; reader: Reader }[]>();
  scope!: Scope;
  readonly segmentInfo = new Map<string, SegmentInfo>();
  currency = "USD";
  /** `settings.exchange_rates` (into `currency`). */
  exchangeRates: Readonly<Record<string, number>> = {};
  eventWindowMs = 0;
  readonly messageUses: MessageUse[] = [];
  readonly messageTemplates = new Map<
    string,
    {
      reader: Reader;
      parts: { scalar: YamlScalar; variables: { name: string; start: number; end: number }[] }[];
    }
  >();

  readonly segmentSql = new Map<string, SqlFragment>();
  readonly declared = { rewards: [] as string[], messages: [] as string[], offers: [] as string[] };
  /** Where each segment, reward and message is defined, for warnings about ones nothing uses. */
  readonly definitions = {
    segments: new Map<string, Entry>(),
    rewards: new Map<string, Entry>(),
    messages: new Map<string, Entry>(),
  };
  /** Advice that does not stop the ruleset (dsl/rules/check-unused.ts); never part of `report`. */
  readonly warnings: Diagnostic[] = [];

  constructor(readonly files: readonly RuleSource[]) {}

  /**
   * Translates a checked expression to SQL now, so a translation that would fail at run time (too
   * many bound parameters for D1) is a located error at validate time instead.
   */
  translate(
    expression: ExpressionIR,
    node: YamlNode,
    reader: Reader,
    keep: (sql: SqlFragment) => void,
    silent = false,
  ): boolean {
    try {
      keep(
        expressionToSql(expression.ast, {
          scope: this.scope,
          segment: (name) => {
            const sql = this.segmentSql.get(name);
            if (!sql) throw new SqlTranslationError(`segment \`${name}\` cannot be selected in SQL`);
            return membershipSql(sql);
          },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof SqlTranslationError)) throw error;
      // A segment that only closures evaluate may exceed SQL limits; a campaign using it may not.
      if (silent) return false;
      const tooLarge = /parameters/.test(error.message);
      reader.fail(node, tooLarge ? "limit_exceeded" : "not_sql_translatable", error.message);
      return false;
    }
  }

  loadFiles(): Reader | undefined {
    let first: Reader | undefined;
    if (this.files.length > LIMITS.maxFiles) {
      const file = this.files[LIMITS.maxFiles]!;
      this.report.add({
        code: "limit_exceeded",
        severity: "error",
        message: `a ruleset may have at most ${LIMITS.maxFiles} files`,
        file: file.path,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 2,
      });
    }
    for (const file of this.files.slice(0, LIMITS.maxFiles)) {
      const loaded = loadRuleFile(file.path, file.text);
      const reader = new Reader(loaded.source, this.report);
      first ??= reader;
      if (file.text.length > LIMITS.maxFileBytes) {
        reader.report.at(
          loaded.source,
          { start: 0, end: 1 },
          "limit_exceeded",
          `a rule file may have at most ${LIMITS.maxFileBytes} bytes`,
        );
        continue;
      }
      for (const diagnostic of loaded.diagnostics) this.report.add(diagnostic);
      if (!loaded.root) continue;
      if (loaded.root.kind === "scalar" && loaded.root.value === null) continue;
      const root = reader.map(loaded.root, "a rule file");
      if (!root) continue;
      const fields = reader.fields(root, "a rule file", SECTIONS);
      for (const [name, node] of fields) {
        const list = this.sections.get(name as Section) ?? [];
        list.push({ node, reader });
        this.sections.set(name as Section, list);
      }
    }
    return first;
  }

  /** The one definition of a section that may appear in only one file. */
  single(section: Section): { node: YamlNode; reader: Reader } | undefined {
    const all = this.sections.get(section) ?? [];
    for (const extra of all.slice(1)) {
      const first = all[0]!;
      extra.reader.fail(
        extra.node,
        "duplicate_key",
        `\`${section}\` is already defined`,
        `first defined at ${first.reader.where(first.node)}`,
      );
    }
    return all[0];
  }

  /** Entries of a keyed-map section merged across files, duplicates reported. */
  mapEntries(section: Section): Entry[] {
    const entries: Entry[] = [];
    const seen = new Map<string, Entry>();
    for (const { node, reader } of this.sections.get(section) ?? []) {
      if (node.kind === "scalar" && node.value === null) continue;
      const map = reader.map(node, `\`${section}\``);
      if (!map) continue;
      for (const pair of map.pairs) {
        const key = reader.key(pair.key, `a ${singular(section)} name`);
        if (key === undefined) continue;
        const entry: Entry = { key, keyNode: pair.key, value: pair.value, reader };
        const previous = seen.get(key);
        if (previous) {
          reader.fail(
            pair.key,
            "duplicate_key",
            `${singular(section)} \`${key}\` is defined twice`,
            `first defined at ${previous.reader.where(previous.keyNode)}`,
          );
          continue;
        }
        seen.set(key, entry);
        entries.push(entry);
      }
    }
    return entries;
  }

  /** Items of a list section (each a mapping with a `key`) merged across files. */
  listEntries(section: Section): Entry[] {
    const entries: Entry[] = [];
    const seen = new Map<string, Entry>();
    for (const { node, reader } of this.sections.get(section) ?? []) {
      if (node.kind === "scalar" && node.value === null) continue;
      const items = reader.seq(node, `\`${section}\``);
      if (!items) continue;
      for (const item of items) {
        const map = reader.map(item, `each of \`${section}\``);
        if (!map) continue;
        const keyPair = map.pairs.find((p) => p.key.value === "key");
        if (!keyPair) {
          reader.fail(item, "schema_violation", `each of \`${section}\` needs \`key\``);
          continue;
        }
        const key = reader.key(keyPair.value, `a ${singular(section)} key`);
        if (key === undefined) continue;
        const previous = seen.get(key);
        if (previous) {
          reader.fail(
            keyPair.value,
            "duplicate_key",
            `${singular(section)} \`${key}\` is defined twice`,
            `first defined at ${previous.reader.where(previous.keyNode)}`,
          );
          continue;
        }
        const entry: Entry = { key, keyNode: keyPair.value, value: map, reader };
        seen.set(key, entry);
        entries.push(entry);
      }
    }
    return entries;
  }

  limit(entries: Entry[], max: number, what: string): Entry[] {
    const over = entries[max];
    if (over) over.reader.fail(over.keyNode, "limit_exceeded", `a ruleset may have at most ${max} ${what}`);
    return entries.slice(0, max);
  }

  timeZone(node: YamlNode, reader: Reader): string | undefined {
    const zone = reader.string(node, "a time zone");
    if (zone === undefined) return undefined;
    const problems = checkTimeZone(zone);
    if (problems.length > 0) {
      this.exprDiagnostics(node as YamlScalar, reader, problems);
      return undefined;
    }
    return zone;
  }

  /** Parses and type-checks one expression, mapping its diagnostics into the file. */
  expression(node: YamlNode, reader: Reader, expected: ExprType = BOOLEAN): ExpressionIR | undefined {
    if (node.kind !== "scalar" || node.value === null || typeof node.value === "object") {
      return reader.fail(
        node,
        "schema_violation",
        `an expression must be text, found ${reader.describe(node)}`,
      );
    }
    const source = String(node.value);
    if (source.length > LIMITS.maxExpressionLength) {
      return reader.fail(
        node,
        "limit_exceeded",
        `an expression may have at most ${LIMITS.maxExpressionLength} characters`,
      );
    }
    const parsed = parseExpression(source);
    if (!parsed.ast || parsed.diagnostics.length > 0) {
      this.exprDiagnostics(node, reader, parsed.diagnostics);
      return undefined;
    }
    const checked = checkExpression(parsed.ast, this.scope, expected);
    if (checked.diagnostics.length > 0) {
      this.exprDiagnostics(node, reader, checked.diagnostics);
      return undefined;
    }
    this.eventWindowMs = Math.max(this.eventWindowMs, checked.eventWindowMs);
    return { source, ast: parsed.ast, sqlTranslatable: checked.sqlTranslatable, at: reader.where(node) };
  }

  exprDiagnostics(node: YamlScalar, reader: Reader, diagnostics: readonly ExprDiagnostic[]): void {
    for (const d of diagnostics) reader.inside(node, d.span, d.code, d.message, d.hint);
  }

  reference(
    node: YamlNode,
    reader: Reader,
    keys: ReadonlySet<string>,
    kind: "segment" | "reason" | "reward" | "message" | "offer" | "plan" | "frequency_cap",
  ): string | undefined {
    const key = reader.key(node, `a ${kind.replace("_", " ")}`);
    if (key === undefined) return undefined;
    if (keys.has(key)) return key;
    const suggestion = closest(key, keys);
    return reader.fail(
      node,
      `unknown_${kind}`,
      `unknown ${kind.replace("_", " ")} \`${key}\``,
      suggestion
        ? `did you mean \`${suggestion}\`?`
        : keys.size > 0
          ? `known: ${[...keys].slice(0, 12).join(", ")}`
          : `no ${kind.replace("_", " ")}s are defined`,
    );
  }

  useMessage(
    node: YamlNode,
    reader: Reader,
    keys: ReadonlySet<string>,
    context: MessageContext,
    by: string,
  ): string | null {
    const key = this.reference(node, reader, keys, "message");
    if (key === undefined) return null;
    this.messageUses.push({ message: key, node, reader, context, by });
    return key;
  }
}

export interface References {
  rewardKeys: ReadonlySet<string>;
  messageKeys: ReadonlySet<string>;
  reasonKeys: ReadonlySet<string>;
  offerKeys: ReadonlySet<string>;
  plans: ReadonlySet<string> | null;
}

export function contextOf(by: string): MessageContext {
  return by.startsWith("dunning") ? "dunning" : "plain";
}

export function contextDescription(context: MessageContext): string {
  switch (context) {
    case "offer":
      return "which has an offer";
    case "plain":
      return "which has no offer and no payment details";
    case "dunning":
      return "a dunning message (payment details, no offer)";
    case "card_expiry":
      return "a card-expiry reminder (card details, no offer)";
  }
}

export function singular(section: Section): string {
  switch (section) {
    case "frequency_caps":
      return "frequency cap";
    case "winback":
      return "win-back sequence";
    case "inactivity":
      return "inactivity rule";
    case "dunning":
      return "dunning cadence";
    default:
      return section.replace(/s$/, "");
  }
}
