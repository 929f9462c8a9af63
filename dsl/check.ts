/**
 * The ruleset checker: rule files in, one checked `RulesetIR` out, or every error it can find (up to
 * LIMITS.maxDiagnostics), each at `file:line:col`.
 *
 * Stage: load (dsl/load.ts) → shape (dsl/rule-reader.ts) → references, cycles, templates and every
 * expression (dsl/check-expr.ts), schedule (dsl/cron.ts) and time zone (dsl/timezone.ts) → IR
 * (dsl/ruleset.ts). Next: dsl/runtime.ts compiles the IR. A ruleset with any error yields no IR,
 * so a half-valid ruleset never runs.
 */
import type { Expr } from "./ast";
import { checkExpression } from "./check-expr";
import { parseCron } from "./cron";
import type { Diagnostic, ExprDiagnostic } from "./errors";
import { buildScope, DEFAULT_REASONS, isKnownCurrency, parseFieldType } from "./fields";
import { LIMITS } from "./limits";
import { loadRuleFile, type SourceFile, type YamlMap, type YamlNode, type YamlScalar } from "./load";
import { parseExpression } from "./parser";
import { closest, Reader, Reporter } from "./rule-reader";
import {
  type CampaignIR,
  type CampaignVariantIR,
  type CapIR,
  type DunningAction,
  type DunningIR,
  type ExperimentIR,
  type ExpressionIR,
  type InactivityIR,
  type MessageIR,
  OFFER_CONTEXTS,
  type OfferContext,
  type OfferIR,
  type OfferVariantIR,
  REWARD_KINDS,
  type RewardIR,
  RULESET_FORMAT,
  type RulesetIR,
  type StepIR,
  type WinbackIR,
} from "./ruleset";
import { membershipSql } from "./runtime";
import { sha256Hex } from "./sha256";
import { expressionToSql, SqlTranslationError } from "./sql";
import { type MessageContext, parseTemplate, TEMPLATE_VARIABLES, variableAvailable } from "./template";
import { checkTimeZone, parseQuietHours } from "./timezone";
import type { ExprType, Scope, SegmentInfo, SqlFragment } from "./types";

/** One rule file as read from disk (or from a test). */
export interface RuleSource {
  /** Shown in diagnostics (relative to the working directory). */
  path: string;
  text: string;
  /** Name inside the ruleset, hashed into the version (defaults to `path`). */
  name?: string;
}

export interface CheckResult {
  /** Present only when there are no errors. */
  ruleset?: RulesetIR;
  diagnostics: Diagnostic[];
}

const SECTIONS = [
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
] as const;
type Section = (typeof SECTIONS)[number];

const BOOLEAN: ExprType = { kind: "boolean" };
const MAX_DAY = 3650;

/** A section entry (a map entry or a list item with `key`) and the file it came from. */
interface Entry {
  key: string;
  keyNode: YamlNode;
  value: YamlNode;
  reader: Reader;
}

/** Where a message is sent from, for template-variable checks. */
interface MessageUse {
  message: string;
  node: YamlNode;
  reader: Reader;
  context: MessageContext;
  by: string;
}

/**
 * Checks a ruleset made of several files. Sections merge across files; every key must be unique
 * across all of them.
 *
 * @example checkRuleset([{ path: "rules/segments.yaml", text: "segments:\n  vip: ltv >= $500\n" }])
 */
export function checkRuleset(files: readonly RuleSource[]): CheckResult {
  return new Checker(files).run();
}

class Checker {
  private readonly report = new Reporter(LIMITS.maxDiagnostics);
  private readonly sections = new Map<Section, { node: YamlNode; reader: Reader }[]>();
  private scope!: Scope;
  private readonly segmentInfo = new Map<string, SegmentInfo>();
  private currency = "USD";
  private eventWindowMs = 0;
  private readonly messageUses: MessageUse[] = [];
  private readonly messageTemplates = new Map<
    string,
    {
      reader: Reader;
      parts: { scalar: YamlScalar; variables: { name: string; start: number; end: number }[] }[];
    }
  >();

  private readonly segmentSql = new Map<string, SqlFragment>();
  private readonly declared = { rewards: [] as string[], messages: [] as string[], offers: [] as string[] };

  constructor(private readonly files: readonly RuleSource[]) {}

  /**
   * Translates a checked expression to SQL now, so a translation that would fail at run time (too
   * many bound parameters for D1) is a located error at validate time instead.
   */
  private translate(
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

  run(): CheckResult {
    const firstReader = this.loadFiles();
    const ir = this.build(firstReader);
    const diagnostics = sortDiagnostics(this.report.diagnostics);
    if (diagnostics.some((d) => d.severity === "error") || !ir) return { diagnostics };
    return { ruleset: ir, diagnostics };
  }

  private loadFiles(): Reader | undefined {
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
  private single(section: Section): { node: YamlNode; reader: Reader } | undefined {
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
  private mapEntries(section: Section): Entry[] {
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
  private listEntries(section: Section): Entry[] {
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

  private limit(entries: Entry[], max: number, what: string): Entry[] {
    const over = entries[max];
    if (over) over.reader.fail(over.keyNode, "limit_exceeded", `a ruleset may have at most ${max} ${what}`);
    return entries.slice(0, max);
  }

  private build(firstReader: Reader | undefined): RulesetIR | undefined {
    const settings = this.readSettings();
    this.currency = settings.currency;
    const reasons = this.readReasons();
    const plans = this.readPlans();
    const fields = this.readFields();
    const segmentEntries = this.limit(this.mapEntries("segments"), LIMITS.maxSegments, "segments");
    this.scope = buildScope({
      defaultCurrency: this.currency,
      reasons: reasons.map((r) => r.key),
      ...(plans ? { plans } : {}),
      customFields: fields.map((f) => ({ name: f.name, type: f.parsed, description: f.description ?? "" })),
    });
    // Segment references resolve through this map, filled in dependency order.
    this.scope = { ...this.scope, segments: this.segmentInfo };
    const segments = this.readSegments(segmentEntries);
    const rewards = this.readRewards();
    // Declared keys, valid or not: a broken reward is reported once, not again at every use.
    const rewardKeys = new Set(this.declared.rewards);
    const messages = this.readMessages();
    const messageKeys = new Set(this.declared.messages);
    const reasonKeys = new Set(reasons.map((r) => r.key));
    const frequencyCaps = this.readFrequencyCaps();
    const offers = this.readOffers(rewards, rewardKeys, messageKeys, reasonKeys);
    const offerKeys = new Set(this.declared.offers);
    const refs: References = {
      rewardKeys,
      messageKeys,
      reasonKeys,
      offerKeys,
      plans: plans ? new Set(plans) : null,
    };
    const offerPolicy = this.readOfferPolicy();
    const inactivity = this.readInactivity(refs);
    const dunning = this.readDunning(refs);
    const cardExpiry = this.readCardExpiry(refs);
    const winback = this.readWinback(refs);
    const campaigns = this.readCampaigns(refs, new Set(frequencyCaps.map((c) => c.key)));
    this.checkTemplateVariables();
    if (!firstReader && this.files.length === 0) {
      this.report.add({
        code: "schema_violation",
        severity: "error",
        message: "no rule files found",
        file: ".",
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
      });
    }
    if (this.report.diagnostics.length > 0) return undefined;
    return {
      format: RULESET_FORMAT,
      version: rulesetVersion(this.files),
      currency: this.currency,
      defaultTimezone: settings.defaultTimezone,
      reasons,
      plans,
      fields: fields.map(({ name, type, description }) => ({ name, type, description })),
      eventWindowMs: Number.isFinite(this.eventWindowMs) ? this.eventWindowMs : null,
      segments,
      rewards,
      offers,
      offerPolicy,
      frequencyCaps,
      messages,
      inactivity,
      dunning,
      cardExpiry,
      winback,
      campaigns,
    };
  }

  private readSettings(): { currency: string; defaultTimezone: string } {
    const result = { currency: "USD", defaultTimezone: "UTC" };
    const found = this.single("settings");
    if (!found) return result;
    const { node, reader } = found;
    const map = reader.map(node, "`settings`");
    if (!map) return result;
    const fields = reader.fields(map, "`settings`", ["currency", "default_timezone"]);
    const currencyNode = fields.get("currency");
    if (currencyNode) {
      const code = reader.string(currencyNode, "`currency`");
      if (code !== undefined && isKnownCurrency(code)) result.currency = code;
      else if (code !== undefined)
        reader.fail(
          currencyNode,
          "bad_money",
          `unknown currency \`${code}\``,
          "use an ISO 4217 code such as USD or EUR",
        );
    }
    const zoneNode = fields.get("default_timezone");
    if (zoneNode) {
      const zone = this.timeZone(zoneNode, reader);
      if (zone) result.defaultTimezone = zone;
    }
    return result;
  }

  private timeZone(node: YamlNode, reader: Reader): string | undefined {
    const zone = reader.string(node, "a time zone");
    if (zone === undefined) return undefined;
    const problems = checkTimeZone(zone);
    if (problems.length > 0) {
      this.exprDiagnostics(node as YamlScalar, reader, problems);
      return undefined;
    }
    return zone;
  }

  private readReasons(): RulesetIR["reasons"] {
    const found = this.single("reasons");
    if (!found)
      return DEFAULT_REASONS.map((key) => ({ key, description: null, offers: key !== "shutting_down" }));
    const { node, reader } = found;
    const reasons: RulesetIR["reasons"] = [];
    if (node.kind === "seq") {
      for (const item of node.items) {
        const key = reader.key(item, "a reason");
        if (key === undefined) continue;
        if (reasons.some((r) => r.key === key))
          reader.fail(item, "duplicate_key", `reason \`${key}\` is listed twice`);
        else reasons.push({ key, description: null, offers: true });
      }
      return reasons;
    }
    const map = reader.map(node, "`reasons`");
    if (!map) return reasons;
    for (const pair of map.pairs) {
      const key = reader.key(pair.key, "a reason");
      if (key === undefined) continue;
      if (pair.value.kind === "map") {
        const fields = reader.fields(pair.value, `reason \`${key}\``, ["description", "offers"]);
        const offers = fields.get("offers");
        reasons.push({
          key,
          description: reader.optionalString(fields.get("description"), "a description"),
          offers: offers ? (reader.boolean(offers, "`offers`") ?? true) : true,
        });
      } else {
        const description =
          pair.value.kind === "scalar" && pair.value.value === null
            ? null
            : reader.string(pair.value, "a reason's description");
        reasons.push({ key, description: description ?? null, offers: true });
      }
    }
    return reasons;
  }

  private readPlans(): string[] | null {
    const found = this.single("plans");
    if (!found) return null;
    const keys = found.reader.keyList(found.node, "`plans`");
    return keys ? [...new Set(keys.map((k) => k.key))] : null;
  }

  private readFields(): { name: string; type: string; parsed: ExprType; description: string | null }[] {
    const fields: { name: string; type: string; parsed: ExprType; description: string | null }[] = [];
    for (const entry of this.limit(this.mapEntries("fields"), LIMITS.maxCustomFields, "custom fields")) {
      const { reader, value } = entry;
      let typeNode: YamlNode | undefined = value;
      let description: string | null = null;
      if (value.kind === "map") {
        const found = reader.fields(value, `field \`${entry.key}\``, ["type", "description"], ["type"]);
        typeNode = found.get("type");
        description = reader.optionalString(found.get("description"), "a description");
      }
      if (!typeNode) continue;
      const typeText = reader.string(typeNode, "a field type");
      if (typeText === undefined) continue;
      const parsed = parseFieldType(typeText);
      if ("error" in parsed) {
        reader.fail(typeNode, "schema_violation", parsed.error);
        continue;
      }
      fields.push({ name: entry.key, type: typeText, parsed, description });
    }
    return fields;
  }

  /** Parses and type-checks one expression, mapping its diagnostics into the file. */
  private expression(node: YamlNode, reader: Reader, expected: ExprType = BOOLEAN): ExpressionIR | undefined {
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

  private exprDiagnostics(node: YamlScalar, reader: Reader, diagnostics: readonly ExprDiagnostic[]): void {
    for (const d of diagnostics) reader.inside(node, d.span, d.code, d.message, d.hint);
  }

  private readSegments(entries: Entry[]): RulesetIR["segments"] {
    const parsed = new Map<
      string,
      { entry: Entry; node: YamlScalar; ast: Expr; description: string | null }
    >();
    for (const entry of entries) {
      const { reader, value } = entry;
      let whenNode: YamlNode | undefined = value;
      let description: string | null = null;
      if (value.kind === "map") {
        const fields = reader.fields(value, `segment \`${entry.key}\``, ["when", "description"], ["when"]);
        whenNode = fields.get("when");
        description = reader.optionalString(fields.get("description"), "a description");
      }
      if (!whenNode) continue;
      if (whenNode.kind !== "scalar" || typeof whenNode.value !== "string") {
        reader.fail(
          whenNode,
          "schema_violation",
          `segment \`${entry.key}\` must be an expression, found ${reader.describe(whenNode)}`,
        );
        continue;
      }
      const result = parseExpression(whenNode.value);
      if (!result.ast || result.diagnostics.length > 0) {
        this.exprDiagnostics(whenNode, reader, result.diagnostics);
        continue;
      }
      parsed.set(entry.key, { entry, node: whenNode, ast: result.ast, description });
    }
    // Dependency order; a reference that closes a cycle is reported where it is written.
    const order: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (key: string, path: string[]): void => {
      const segment = parsed.get(key);
      if (!segment || state.get(key) === "done") return;
      state.set(key, "visiting");
      for (const ref of segmentRefs(segment.ast, parsed)) {
        if (state.get(ref.name) === "visiting") {
          const cycle = [...path.slice(path.indexOf(ref.name)), key, ref.name].join(" → ");
          segment.entry.reader.inside(
            segment.node,
            ref.span,
            "segment_cycle",
            `segments refer to each other in a cycle: ${cycle}`,
          );
          state.set(ref.name, "done");
          continue;
        }
        if (path.length >= LIMITS.maxSegmentDepth) {
          segment.entry.reader.inside(
            segment.node,
            ref.span,
            "limit_exceeded",
            `segments may build on each other at most ${LIMITS.maxSegmentDepth} deep`,
          );
          continue;
        }
        visit(ref.name, [...path, key]);
      }
      state.set(key, "done");
      order.push(key);
    };
    for (const key of parsed.keys()) visit(key, []);
    const segments: RulesetIR["segments"] = [];
    const cyclic = new Set(
      this.report.diagnostics.filter((d) => d.code === "segment_cycle").length > 0 ? parsed.keys() : [],
    );
    for (const key of order) {
      const segment = parsed.get(key)!;
      if (cyclic.size > 0) continue;
      const when = this.expression(segment.node, segment.entry.reader);
      if (!when) {
        // Known but broken: later references are not "unknown", they just cannot run in SQL.
        this.segmentInfo.set(key, { name: key, sqlTranslatable: false });
        continue;
      }
      this.segmentInfo.set(key, { name: key, sqlTranslatable: when.sqlTranslatable });
      if (when.sqlTranslatable)
        this.translate(
          when,
          segment.node,
          segment.entry.reader,
          (sql) => this.segmentSql.set(key, sql),
          true,
        );
      segments.push({ key, description: segment.description, when });
    }
    // Later expressions must still see every declared segment, so a broken one is not "unknown".
    for (const key of parsed.keys())
      if (!this.segmentInfo.has(key)) this.segmentInfo.set(key, { name: key, sqlTranslatable: false });
    for (const entry of entries)
      if (!this.segmentInfo.has(entry.key))
        this.segmentInfo.set(entry.key, { name: entry.key, sqlTranslatable: false });
    return segments;
  }

  private readReward(key: string, node: YamlNode, reader: Reader): RewardIR | undefined {
    const map = reader.map(node, `reward \`${key}\``);
    if (!map) return undefined;
    const allowed = [...REWARD_KINDS, "description", "for_months", "expires_after", "cost"];
    const fields = reader.fields(map, `reward \`${key}\``, allowed, ["expires_after"]);
    const kinds = REWARD_KINDS.filter((kind) => fields.has(kind));
    if (kinds.length !== 1) {
      reader.fail(
        kinds.length > 1 ? fields.get(kinds[1]!)! : map,
        "schema_violation",
        kinds.length > 1
          ? `reward \`${key}\` has both \`${kinds[0]}\` and \`${kinds[1]}\`: give exactly one kind`
          : `reward \`${key}\` needs one of ${REWARD_KINDS.join(", ")}`,
      );
      return undefined;
    }
    const kind = kinds[0]!;
    const value = fields.get(kind)!;
    const reward: RewardIR = {
      key,
      kind,
      description: reader.optionalString(fields.get("description"), "a description"),
      amount: null,
      percent: null,
      forMonths: null,
      months: null,
      durationMs: null,
      points: null,
      feature: null,
      expiresAfterMs: 0,
      cost: null,
    };
    let ok = true;
    const need = <T>(v: T | undefined): T | null => {
      if (v === undefined) ok = false;
      return v ?? null;
    };
    switch (kind) {
      case "amount_off":
      case "credit":
        reward.amount = need(reader.money(value, `\`${kind}\``, this.currency));
        break;
      case "percent_off":
        reward.percent = need(reader.number(value, "`percent_off`", 0.01, 100));
        break;
      case "months_off":
        reward.months = need(reader.integer(value, "`months_off`", 1, 24));
        break;
      case "consultation":
      case "trial_extension":
        reward.durationMs = need(reader.duration(value, `\`${kind}\``, LIMITS.maxDurationMs));
        break;
      case "bonus_points":
        reward.points = need(reader.integer(value, "`bonus_points`", 1, 1_000_000_000));
        break;
      case "feature_unlock":
        reward.feature = need(reader.key(value, "`feature_unlock`"));
        break;
    }
    const forMonths = fields.get("for_months");
    if (forMonths) {
      if (kind !== "amount_off" && kind !== "percent_off") {
        reader.fail(forMonths, "schema_violation", "`for_months` applies only to amount_off and percent_off");
        ok = false;
      } else reward.forMonths = need(reader.integer(forMonths, "`for_months`", 1, 24));
    }
    const expires = fields.get("expires_after");
    if (expires)
      reward.expiresAfterMs = need(reader.duration(expires, "`expires_after`", LIMITS.maxDurationMs)) ?? 0;
    else ok = false;
    const cost = fields.get("cost");
    if (cost) reward.cost = need(reader.money(cost, "`cost`", this.currency));
    return ok ? reward : undefined;
  }

  private readRewards(): RewardIR[] {
    const rewards: RewardIR[] = [];
    for (const entry of this.limit(this.mapEntries("rewards"), LIMITS.maxRewards, "rewards")) {
      this.declared.rewards.push(entry.key);
      const reward = this.readReward(entry.key, entry.value, entry.reader);
      if (reward) rewards.push(reward);
    }
    return rewards;
  }

  private readMessages(): MessageIR[] {
    const messages: MessageIR[] = [];
    for (const entry of this.limit(this.mapEntries("messages"), LIMITS.maxMessages, "messages")) {
      this.declared.messages.push(entry.key);
      const { reader } = entry;
      const map = reader.map(entry.value, `message \`${entry.key}\``);
      if (!map) continue;
      const fields = reader.fields(
        map,
        `message \`${entry.key}\``,
        ["subject", "body", "channel", "description"],
        ["body"],
      );
      const parts: { scalar: YamlScalar; variables: { name: string; start: number; end: number }[] }[] = [];
      const text = (name: "subject" | "body"): string | null => {
        const node = fields.get(name);
        if (!node) return null;
        const value = reader.string(node, `\`${name}\``);
        if (value === undefined) return null;
        const parsed = parseTemplate(value);
        for (const d of parsed.diagnostics)
          reader.inside(node as YamlScalar, d.span, d.code, d.message, d.hint);
        const variables = parsed.template.parts.flatMap((p) =>
          p.kind === "variable" && p.name in TEMPLATE_VARIABLES ? [p] : [],
        );
        parts.push({ scalar: node as YamlScalar, variables });
        return value;
      };
      const subject = text("subject");
      const body = text("body");
      let channel: MessageIR["channel"] = null;
      const channelNode = fields.get("channel");
      if (channelNode) {
        const value = reader.string(channelNode, "`channel`");
        if (value === "email" || value === "in_app" || value === "webhook") channel = value;
        else if (value !== undefined)
          reader.fail(channelNode, "schema_violation", "`channel` is email, in_app or webhook");
      }
      this.messageTemplates.set(entry.key, { reader, parts });
      if (body !== null) messages.push({ key: entry.key, channel, subject, body });
    }
    return messages;
  }

  private readCap(node: YamlNode, reader: Reader, what: string): CapIR | null {
    const map = reader.map(node, what);
    if (!map) return null;
    const fields = reader.fields(map, what, ["max", "per"], ["max", "per"]);
    const maxNode = fields.get("max");
    const perNode = fields.get("per");
    const max = maxNode ? reader.integer(maxNode, "`max`", 1, 1000) : undefined;
    const per = perNode ? reader.duration(perNode, "`per`", LIMITS.maxDurationMs) : undefined;
    return max !== undefined && per !== undefined ? { max, perMs: per } : null;
  }

  private readFrequencyCaps(): RulesetIR["frequencyCaps"] {
    const caps: RulesetIR["frequencyCaps"] = [];
    for (const entry of this.mapEntries("frequency_caps")) {
      const cap = this.readCap(entry.value, entry.reader, `frequency cap \`${entry.key}\``);
      if (cap) caps.push({ key: entry.key, ...cap });
    }
    return caps;
  }

  private readOfferPolicy(): RulesetIR["offerPolicy"] {
    const policy: RulesetIR["offerPolicy"] = {
      cap: null,
      cooldownMs: null,
      redeemedThenChurnedWithinMs: null,
    };
    const found = this.single("offer_policy");
    if (!found) return policy;
    const { node, reader } = found;
    const map = reader.map(node, "`offer_policy`");
    if (!map) return policy;
    const fields = reader.fields(map, "`offer_policy`", ["cap", "cooldown", "redeemed_then_churned_within"]);
    const cap = fields.get("cap");
    if (cap) policy.cap = this.readCap(cap, reader, "`cap`");
    const cooldown = fields.get("cooldown");
    if (cooldown) policy.cooldownMs = reader.duration(cooldown, "`cooldown`", LIMITS.maxDurationMs) ?? null;
    const guard = fields.get("redeemed_then_churned_within");
    if (guard)
      policy.redeemedThenChurnedWithinMs =
        reader.duration(guard, "`redeemed_then_churned_within`", LIMITS.maxDurationMs) ?? null;
    return policy;
  }

  private reference(
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

  private useMessage(
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

  private readOffers(
    rewards: RewardIR[],
    rewardKeys: Set<string>,
    messageKeys: Set<string>,
    reasonKeys: Set<string>,
  ): OfferIR[] {
    const offers: (OfferIR & { order: number })[] = [];
    const entries = this.limit(this.listEntries("offers"), LIMITS.maxOffers, "offers");
    this.declared.offers.push(...entries.map((entry) => entry.key));
    const segmentKeys = new Set(this.segmentInfo.keys());
    entries.forEach((entry, order) => {
      const { reader } = entry;
      const map = entry.value as YamlMap;
      const what = `offer \`${entry.key}\``;
      const fields = reader.fields(
        map,
        what,
        [
          "key",
          "description",
          "priority",
          "contexts",
          "reasons",
          "segment",
          "when",
          "reward",
          "message",
          "cap",
          "cooldown",
          "experiment",
        ],
        ["reward", "message"],
      );
      let ok = true;
      const priorityNode = fields.get("priority");
      const priority = priorityNode ? reader.integer(priorityNode, "`priority`", -1_000_000, 1_000_000) : 0;
      let contexts: OfferContext[] | null = null;
      const contextsNode = fields.get("contexts");
      if (contextsNode) {
        contexts = [];
        for (const item of reader.keyList(contextsNode, "`contexts`") ?? []) {
          if ((OFFER_CONTEXTS as readonly string[]).includes(item.key))
            contexts.push(item.key as OfferContext);
          else
            reader.fail(
              item.node,
              "schema_violation",
              `unknown context \`${item.key}\``,
              `contexts: ${OFFER_CONTEXTS.join(", ")}`,
            );
        }
      }
      let reasons: string[] | null = null;
      const reasonsNode = fields.get("reasons");
      if (reasonsNode) {
        reasons = [];
        for (const item of reader.keyList(reasonsNode, "`reasons`") ?? []) {
          const key = this.reference(item.node, reader, reasonKeys, "reason");
          if (key) reasons.push(key);
          else ok = false;
        }
      }
      const segments: string[] = [];
      const segmentNode = fields.get("segment");
      if (segmentNode) {
        for (const item of reader.keyList(segmentNode, "`segment`") ?? []) {
          const key = this.reference(item.node, reader, segmentKeys, "segment");
          if (key) segments.push(key);
          else ok = false;
        }
      }
      const whenNode = fields.get("when");
      const when = whenNode ? this.expression(whenNode, reader) : null;
      if (when === undefined) ok = false;
      let rewardKey: string | undefined;
      const rewardNode = fields.get("reward");
      if (rewardNode?.kind === "map") {
        // An inline reward is named after its offer.
        const inline = this.readReward(`offer_${entry.key}`, rewardNode, reader);
        if (inline) {
          rewards.push(inline);
          rewardKeys.add(inline.key);
          rewardKey = inline.key;
        }
      } else if (rewardNode) rewardKey = this.reference(rewardNode, reader, rewardKeys, "reward");
      const messageNode = fields.get("message");
      const message = messageNode ? this.useMessage(messageNode, reader, messageKeys, "offer", what) : null;
      const capNode = fields.get("cap");
      const cap = capNode ? this.readCap(capNode, reader, "`cap`") : null;
      const cooldownNode = fields.get("cooldown");
      const cooldownMs = cooldownNode
        ? (reader.duration(cooldownNode, "`cooldown`", LIMITS.maxDurationMs) ?? null)
        : null;
      const experimentNode = fields.get("experiment");
      const experiment = experimentNode
        ? this.readExperiment<OfferVariantIR>(
            experimentNode,
            reader,
            `offer_${entry.key}`,
            (variant, vfields) => {
              const vr = vfields.get("reward");
              const vm = vfields.get("message");
              return {
                ...variant,
                reward: vr ? (this.reference(vr, reader, rewardKeys, "reward") ?? null) : null,
                message: vm
                  ? this.useMessage(vm, reader, messageKeys, "offer", `${what} variant \`${variant.key}\``)
                  : null,
              };
            },
            ["reward", "message"],
          )
        : null;
      if (
        !ok ||
        priority === undefined ||
        rewardKey === undefined ||
        message === null ||
        experiment === undefined
      )
        return;
      offers.push({
        key: entry.key,
        description: reader.optionalString(fields.get("description"), "a description"),
        priority,
        contexts,
        reasons,
        segments,
        when: when ?? null,
        reward: rewardKey,
        message,
        cap,
        cooldownMs,
        experiment,
        at: reader.where(entry.keyNode),
        order,
      });
    });
    offers.sort((a, b) => b.priority - a.priority || a.order - b.order);
    return offers.map(({ order: _order, ...offer }) => offer);
  }

  private readExperiment<V extends { key: string; weight: number }>(
    node: YamlNode,
    reader: Reader,
    defaultKey: string,
    variant: (base: { key: string; weight: number }, fields: Map<string, YamlNode>) => V,
    extraFields: readonly string[],
  ): ExperimentIR<V> | undefined {
    const map = reader.map(node, "`experiment`");
    if (!map) return undefined;
    const fields = reader.fields(map, "`experiment`", ["key", "holdout", "variants"], ["variants"]);
    const keyNode = fields.get("key");
    const key = keyNode ? reader.key(keyNode, "an experiment key") : defaultKey;
    const holdoutNode = fields.get("holdout");
    let holdoutPercent: number | undefined = 0;
    if (holdoutNode) {
      holdoutPercent = reader.number(holdoutNode, "`holdout` (a percentage)", 0, 100);
      if (holdoutPercent !== undefined && Math.round(holdoutPercent * 100) !== holdoutPercent * 100) {
        holdoutPercent = reader.fail(
          holdoutNode,
          "bad_weights",
          "`holdout` may have at most two decimals (buckets are 0.01%)",
        );
      }
      if (holdoutPercent === 100)
        holdoutPercent = reader.fail(holdoutNode, "bad_weights", "a 100% holdout sends nothing to anyone");
    }
    const variantsNode = fields.get("variants");
    const items = variantsNode ? reader.seq(variantsNode, "`variants`") : undefined;
    if (!items) return undefined;
    const variants: V[] = [];
    let ok = key !== undefined && holdoutPercent !== undefined;
    for (const item of items) {
      const vmap = reader.map(item, "a variant");
      if (!vmap) {
        ok = false;
        continue;
      }
      const vfields = reader.fields(vmap, "a variant", ["key", "weight", ...extraFields], ["key", "weight"]);
      const vkeyNode = vfields.get("key");
      const weightNode = vfields.get("weight");
      const vkey = vkeyNode ? reader.key(vkeyNode, "a variant key") : undefined;
      const weight = weightNode ? reader.integer(weightNode, "`weight`", 0, 10_000) : undefined;
      if (vkey === undefined || weight === undefined) {
        ok = false;
        continue;
      }
      if (variants.some((v) => v.key === vkey)) {
        reader.fail(vkeyNode!, "duplicate_key", `variant \`${vkey}\` is listed twice`);
        ok = false;
        continue;
      }
      variants.push(variant({ key: vkey, weight }, vfields));
    }
    if (variants.length > 0 && variants.every((v) => v.weight === 0)) {
      reader.fail(variantsNode!, "bad_weights", "at least one variant needs a weight above zero");
      ok = false;
    }
    if (items.length === 0) {
      reader.fail(variantsNode!, "bad_weights", "an experiment needs at least one variant");
      ok = false;
    }
    return ok ? { key: key!, holdoutPercent: holdoutPercent!, variants } : undefined;
  }

  /** A step: message and/or offer, day or delay. `dayKey` says which timing field it uses. */
  private readStep(
    node: YamlNode,
    reader: Reader,
    refs: References,
    timing: "day" | "after" | "none",
    by: string,
    extra: readonly string[] = [],
  ): (StepIR & { fields: Map<string, YamlNode> }) | undefined {
    const map = reader.map(node, "a step");
    if (!map) return undefined;
    const allowed = [
      ...(timing === "none" ? [] : [timing]),
      "message",
      "offer",
      "fallback_message",
      ...extra,
    ];
    const fields = reader.fields(map, `a step of ${by}`, allowed, timing === "day" ? ["day"] : []);
    const step: StepIR & { fields: Map<string, YamlNode> } = {
      day: null,
      afterMs: null,
      message: null,
      offer: null,
      fallbackMessage: null,
      fields,
    };
    let ok = true;
    const dayNode = fields.get("day");
    if (timing === "day" && dayNode) {
      const day = reader.integer(dayNode, "`day`", 0, MAX_DAY);
      if (day === undefined) ok = false;
      else step.day = day;
    }
    const afterNode = fields.get("after");
    if (timing === "after") {
      step.afterMs = 0;
      if (afterNode) {
        const after = reader.duration(afterNode, "`after`", LIMITS.maxDurationMs);
        if (after === undefined) ok = false;
        else step.afterMs = after;
      }
    }
    const offerNode = fields.get("offer");
    if (offerNode) {
      const offer = reader.key(offerNode, "`offer`");
      if (offer === undefined) ok = false;
      else if (offer !== "best" && !refs.offerKeys.has(offer)) {
        const suggestion = closest(offer, [...refs.offerKeys, "best"]);
        reader.fail(
          offerNode,
          "unknown_offer",
          `unknown offer \`${offer}\``,
          suggestion ? `did you mean \`${suggestion}\`?` : "use `best` or an offer key",
        );
        ok = false;
      } else step.offer = offer;
    }
    const messageNode = fields.get("message");
    if (messageNode) {
      step.message = this.useMessage(
        messageNode,
        reader,
        refs.messageKeys,
        offerNode ? "offer" : contextOf(by),
        by,
      );
      if (step.message === null) ok = false;
    }
    const fallbackNode = fields.get("fallback_message");
    if (fallbackNode) {
      if (!offerNode) {
        reader.fail(
          fallbackNode,
          "schema_violation",
          "`fallback_message` is sent when the step's offer yields none: the step has no `offer`",
        );
        ok = false;
      }
      step.fallbackMessage = this.useMessage(
        fallbackNode,
        reader,
        refs.messageKeys,
        contextOf(by),
        `${by} (no offer)`,
      );
      if (step.fallbackMessage === null) ok = false;
    }
    if (
      !messageNode &&
      !offerNode &&
      !map.pairs.some((p) => p.key.value === "message" || p.key.value === "offer")
    ) {
      reader.fail(map, "schema_violation", `a step of ${by} needs a \`message\` or an \`offer\``);
      ok = false;
    }
    return ok ? step : undefined;
  }

  private readInactivity(refs: References): InactivityIR[] {
    const rules: InactivityIR[] = [];
    for (const entry of this.listEntries("inactivity")) {
      const { reader } = entry;
      const what = `inactivity rule \`${entry.key}\``;
      const map = entry.value as YamlMap;
      const fields = reader.fields(
        map,
        what,
        ["key", "description", "plans", "segment", "when", "after", "message", "offer", "fallback_message"],
        ["after"],
      );
      let ok = true;
      let plans: string[] | null = null;
      const plansNode = fields.get("plans");
      if (plansNode) {
        plans = [];
        for (const item of reader.keyList(plansNode, "`plans`") ?? []) {
          if (refs.plans === null) {
            reader.fail(
              item.node,
              "unknown_plan",
              `plan \`${item.key}\` is not declared`,
              "declare the plans in `plans:`",
            );
            ok = false;
          } else {
            const key = this.reference(item.node, reader, refs.plans, "plan");
            if (key) plans.push(key);
            else ok = false;
          }
        }
      }
      const segmentNode = fields.get("segment");
      const segment = segmentNode
        ? this.reference(segmentNode, reader, new Set(this.segmentInfo.keys()), "segment")
        : null;
      const whenNode = fields.get("when");
      const when = whenNode ? this.expression(whenNode, reader) : null;
      const afterNode = fields.get("after");
      const afterMs = afterNode ? reader.duration(afterNode, "`after`", LIMITS.maxDurationMs) : undefined;
      const stepFields = new Map(
        [...fields].filter(([name]) => name === "message" || name === "offer" || name === "fallback_message"),
      );
      const stepMap: YamlMap = {
        ...map,
        pairs: map.pairs.filter((p) => stepFields.has(String(p.key.value))),
      };
      const step = this.readStep(stepMap, reader, refs, "none", what);
      if (!ok || segment === undefined || when === undefined || afterMs === undefined || !step) continue;
      const { fields: _f, ...plain } = step;
      rules.push({
        key: entry.key,
        description: reader.optionalString(fields.get("description"), "a description"),
        plans,
        segment,
        when,
        afterMs,
        step: plain,
      });
    }
    return rules;
  }

  private readDunning(refs: References): DunningIR[] {
    const cadences: DunningIR[] = [];
    for (const entry of this.listEntries("dunning")) {
      const { reader } = entry;
      const what = `dunning cadence \`${entry.key}\``;
      const fields = reader.fields(
        entry.value as YamlMap,
        what,
        ["key", "description", "when", "steps", "final"],
        ["steps", "final"],
      );
      const whenNode = fields.get("when");
      const when = whenNode ? this.expression(whenNode, reader) : null;
      const steps: DunningIR["steps"] = [];
      let ok = when !== undefined;
      const stepsNode = fields.get("steps");
      const items = stepsNode ? reader.seq(stepsNode, "`steps`") : undefined;
      if (!items) ok = false;
      let lastDay = -1;
      for (const item of items ?? []) {
        const step = this.readStep(item, reader, refs, "day", what);
        if (!step || step.day === null) {
          ok = false;
          continue;
        }
        if (step.offer !== null || step.message === null) {
          reader.fail(
            item,
            "schema_violation",
            "a dunning step sends a message (offers go through the `dunning` offer context)",
          );
          ok = false;
          continue;
        }
        if (step.day <= lastDay) {
          reader.fail(
            step.fields.get("day")!,
            "schema_violation",
            `dunning days must increase: day ${step.day} comes after day ${lastDay}`,
          );
          ok = false;
        }
        lastDay = Math.max(lastDay, step.day);
        steps.push({ day: step.day, message: step.message });
      }
      const finalNode = fields.get("final");
      let final: DunningIR["final"] | undefined;
      const finalMap = finalNode ? reader.map(finalNode, "`final`") : undefined;
      if (finalMap) {
        const ffields = reader.fields(finalMap, "`final`", ["day", "action", "message"], ["day", "action"]);
        const dayNode = ffields.get("day");
        const day = dayNode ? reader.integer(dayNode, "`day`", 0, MAX_DAY) : undefined;
        if (dayNode && day !== undefined && day <= lastDay) {
          reader.fail(
            dayNode,
            "schema_violation",
            `the final action (day ${day}) must come after the last step (day ${lastDay})`,
          );
          ok = false;
        }
        const actionNode = ffields.get("action");
        const actions: DunningAction[] = [];
        const actionItems = actionNode?.kind === "seq" ? actionNode.items : actionNode ? [actionNode] : [];
        for (const item of actionItems) {
          const action = reader.string(item, "`action`");
          if (action === "cancel" || action === "webhook") actions.push(action);
          else if (action !== "none" && action !== undefined) {
            reader.fail(
              item,
              "schema_violation",
              `unknown final action \`${action}\``,
              "actions: cancel, webhook, none",
            );
            ok = false;
          }
        }
        const messageNode = ffields.get("message");
        const message = messageNode
          ? this.useMessage(messageNode, reader, refs.messageKeys, "dunning", `${what} final action`)
          : null;
        if (day !== undefined && (messageNode === undefined || message !== null))
          final = { day, actions, message };
      }
      if (!ok || !final || when === undefined) continue;
      cadences.push({
        key: entry.key,
        description: reader.optionalString(fields.get("description"), "a description"),
        when,
        steps,
        final,
      });
    }
    return cadences;
  }

  private readCardExpiry(refs: References): RulesetIR["cardExpiry"] {
    const found = this.single("card_expiry");
    if (!found) return null;
    const { node, reader } = found;
    const map = reader.map(node, "`card_expiry`");
    if (!map) return null;
    const fields = reader.fields(
      map,
      "`card_expiry`",
      ["days_before", "message"],
      ["days_before", "message"],
    );
    const daysNode = fields.get("days_before");
    const days: number[] = [];
    for (const item of (daysNode ? reader.seq(daysNode, "`days_before`") : undefined) ?? []) {
      const day = reader.integer(item, "a number of days", 1, 365);
      if (day !== undefined && days.includes(day))
        reader.fail(item, "duplicate_key", `${day} days is listed twice`);
      else if (day !== undefined) days.push(day);
    }
    const messageNode = fields.get("message");
    const message = messageNode
      ? this.useMessage(messageNode, reader, refs.messageKeys, "card_expiry", "card-expiry reminders")
      : null;
    if (message === null || days.length === 0) return null;
    return { daysBefore: days.sort((a, b) => b - a), message };
  }

  private readWinback(refs: References): WinbackIR[] {
    const sequences: WinbackIR[] = [];
    const claimed = new Map<string, string>();
    for (const entry of this.listEntries("winback")) {
      const { reader } = entry;
      const what = `win-back sequence \`${entry.key}\``;
      const fields = reader.fields(
        entry.value as YamlMap,
        what,
        ["key", "description", "reasons", "when", "steps"],
        ["reasons", "steps"],
      );
      let ok = true;
      const reasons: string[] = [];
      const reasonsNode = fields.get("reasons");
      for (const item of (reasonsNode ? reader.keyList(reasonsNode, "`reasons`") : undefined) ?? []) {
        const key = this.reference(item.node, reader, refs.reasonKeys, "reason");
        if (!key) {
          ok = false;
          continue;
        }
        const other = claimed.get(key);
        if (other && other !== entry.key) {
          reader.fail(
            item.node,
            "duplicate_key",
            `reason \`${key}\` already has win-back sequence \`${other}\``,
            "each reason starts at most one sequence",
          );
          ok = false;
        }
        claimed.set(key, entry.key);
        reasons.push(key);
      }
      const whenNode = fields.get("when");
      const when = whenNode ? this.expression(whenNode, reader) : null;
      const steps: StepIR[] = [];
      const stepsNode = fields.get("steps");
      let lastDay = -1;
      for (const item of (stepsNode ? reader.seq(stepsNode, "`steps`") : undefined) ?? []) {
        const step = this.readStep(item, reader, refs, "day", what);
        if (!step || step.day === null) {
          ok = false;
          continue;
        }
        if (step.day <= lastDay) {
          reader.fail(
            step.fields.get("day")!,
            "schema_violation",
            `win-back days must increase: day ${step.day} comes after day ${lastDay}`,
          );
          ok = false;
        }
        lastDay = Math.max(lastDay, step.day);
        const { fields: _f, ...plain } = step;
        steps.push(plain);
      }
      if (!ok || when === undefined || steps.length === 0) continue;
      sequences.push({
        key: entry.key,
        description: reader.optionalString(fields.get("description"), "a description"),
        reasons,
        when,
        steps,
      });
    }
    return sequences;
  }

  private readCampaignSteps(
    node: YamlNode,
    reader: Reader,
    refs: References,
    by: string,
  ): StepIR[] | undefined {
    const items = reader.seq(node, "`steps`");
    if (!items) return undefined;
    if (items.length === 0) return reader.fail(node, "schema_violation", "`steps` must not be empty");
    const steps: StepIR[] = [];
    let ok = true;
    for (const item of items) {
      const step = this.readStep(item, reader, refs, "after", by);
      if (!step) ok = false;
      else {
        const { fields: _f, ...plain } = step;
        steps.push(plain);
      }
    }
    return ok ? steps : undefined;
  }

  private readCampaigns(refs: References, capKeys: Set<string>): CampaignIR[] {
    const campaigns: CampaignIR[] = [];
    for (const entry of this.limit(this.mapEntries("campaigns"), LIMITS.maxCampaigns, "campaigns")) {
      const { reader } = entry;
      const what = `campaign \`${entry.key}\``;
      const map = reader.map(entry.value, what);
      if (!map) continue;
      const fields = reader.fields(
        map,
        what,
        [
          "description",
          "schedule",
          "timezone",
          "audience",
          "offer_context",
          "frequency_cap",
          "quiet_hours",
          "steps",
          "experiment",
        ],
        ["schedule", "timezone", "audience", "steps"],
      );
      let ok = true;
      const scheduleNode = fields.get("schedule");
      const schedule = scheduleNode ? reader.string(scheduleNode, "`schedule`") : undefined;
      if (schedule !== undefined) {
        const cron = parseCron(schedule);
        if (cron.diagnostics.length > 0) {
          this.exprDiagnostics(scheduleNode as YamlScalar, reader, cron.diagnostics);
          ok = false;
        }
      }
      const zoneNode = fields.get("timezone");
      const timezone = zoneNode ? this.timeZone(zoneNode, reader) : undefined;
      const audienceNode = fields.get("audience");
      const audience = audienceNode ? this.expression(audienceNode, reader) : undefined;
      if (audience?.sqlTranslatable && !this.translate(audience, audienceNode!, reader, () => {})) ok = false;
      else if (audience && !audience.sqlTranslatable) {
        reader.fail(
          audienceNode!,
          "not_sql_translatable",
          `the audience of ${what} cannot be selected in SQL`,
          "campaign audiences run as one D1 query: use fields, segments and event aggregates that translate",
        );
        ok = false;
      }
      let offerContext: OfferContext = "winback";
      const contextNode = fields.get("offer_context");
      if (contextNode) {
        const value = reader.string(contextNode, "`offer_context`");
        if (value !== undefined && (OFFER_CONTEXTS as readonly string[]).includes(value))
          offerContext = value as OfferContext;
        else {
          reader.fail(
            contextNode,
            "schema_violation",
            `unknown offer context`,
            `contexts: ${OFFER_CONTEXTS.join(", ")}`,
          );
          ok = false;
        }
      }
      const capNode = fields.get("frequency_cap");
      const frequencyCap = capNode ? this.reference(capNode, reader, capKeys, "frequency_cap") : null;
      const quietNode = fields.get("quiet_hours");
      let quietHours: string | null = null;
      if (quietNode) {
        const text = reader.string(quietNode, "`quiet_hours`");
        if (text !== undefined) {
          const parsed = parseQuietHours(text);
          if (parsed.diagnostics.length > 0) {
            this.exprDiagnostics(quietNode as YamlScalar, reader, parsed.diagnostics);
            ok = false;
          } else quietHours = text;
        } else ok = false;
      }
      const stepsNode = fields.get("steps");
      const steps = stepsNode ? this.readCampaignSteps(stepsNode, reader, refs, what) : undefined;
      const experimentNode = fields.get("experiment");
      const experiment = experimentNode
        ? this.readExperiment<CampaignVariantIR>(
            experimentNode,
            reader,
            `campaign_${entry.key}`,
            (variant, vfields) => {
              const vsteps = vfields.get("steps");
              const own = vsteps
                ? this.readCampaignSteps(vsteps, reader, refs, `${what} variant \`${variant.key}\``)
                : null;
              if (own === undefined) ok = false;
              return { ...variant, steps: own ?? null };
            },
            ["steps"],
          )
        : null;
      if (
        !ok ||
        schedule === undefined ||
        !timezone ||
        !audience ||
        frequencyCap === undefined ||
        !steps ||
        experiment === undefined
      )
        continue;
      campaigns.push({
        key: entry.key,
        description: reader.optionalString(fields.get("description"), "a description"),
        schedule,
        timezone,
        audience,
        offerContext,
        frequencyCap,
        quietHours,
        steps,
        experiment,
      });
    }
    return campaigns;
  }

  /** Every template variable must be available in every context its message is sent from. */
  private checkTemplateVariables(): void {
    const reported = new Set<string>();
    for (const use of this.messageUses) {
      const template = this.messageTemplates.get(use.message);
      if (!template) continue;
      for (const part of template.parts) {
        for (const variable of part.variables) {
          if (variableAvailable(variable.name, use.context)) continue;
          const id = `${use.message}:${part.scalar.start}:${variable.start}`;
          if (reported.has(id)) continue;
          reported.add(id);
          template.reader.inside(
            part.scalar,
            { start: variable.start, end: variable.end },
            "unknown_template_variable",
            `\`${variable.name}\` is not available: message \`${use.message}\` is sent by ${use.by}, ${contextDescription(use.context)}`,
            `sent from ${use.reader.where(use.node)}; \`${variable.name}\` is available in ${TEMPLATE_VARIABLES[variable.name]!.contexts.map(contextDescription).join(" / ")}`,
          );
        }
      }
    }
  }
}

interface References {
  rewardKeys: ReadonlySet<string>;
  messageKeys: ReadonlySet<string>;
  reasonKeys: ReadonlySet<string>;
  offerKeys: ReadonlySet<string>;
  plans: ReadonlySet<string> | null;
}

function contextOf(by: string): MessageContext {
  return by.startsWith("dunning") ? "dunning" : "plain";
}

function contextDescription(context: MessageContext): string {
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

function singular(section: Section): string {
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

/** Segment names an expression refers to (bare names that are segments, outside call arguments). */
function segmentRefs(
  ast: Expr,
  segments: ReadonlyMap<string, unknown>,
): { name: string; span: { start: number; end: number } }[] {
  const refs: { name: string; span: { start: number; end: number } }[] = [];
  const walk = (node: Expr): void => {
    switch (node.kind) {
      case "name":
        if (segments.has(node.name)) refs.push({ name: node.name, span: node.span });
        return;
      case "not":
      case "negate":
        walk(node.operand);
        return;
      case "logical":
      case "compare":
      case "arith":
        walk(node.left);
        walk(node.right);
        return;
      case "in":
        walk(node.operand);
        for (const item of node.list.items) walk(item);
        return;
      case "between":
        walk(node.operand);
        walk(node.low);
        walk(node.high);
        return;
      case "null_test":
        walk(node.operand);
        return;
      case "call":
        // Event paths in aggregates are not segment references; other arguments may be.
        if (node.name === "days_since") for (const arg of node.args) walk(arg);
        return;
      default:
        return;
    }
  };
  walk(ast);
  return refs;
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
}

/** `sha256:` + the hash of every rule file's path and text, sorted by path. */
export function rulesetVersion(files: readonly RuleSource[]): string {
  const named = files.map((f) => ({ name: f.name ?? f.path, text: f.text }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `sha256:${sha256Hex(named.map((f) => `${f.name}\u0000${f.text}\u0000`).join(""))}`;
}

export type { SourceFile };
