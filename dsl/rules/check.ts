/**
 * The ruleset checker: rule files in, one checked `RulesetIR` out, or every error it can find (up to
 * LIMITS.maxDiagnostics), each at `file:line:col`.
 *
 * Stage: load (dsl/rules/load.ts) → shape (dsl/rules/reader.ts) → the passes of CHECK_PASSES, one per
 * rules section in dependency order (check-catalog.ts, check-messages.ts, check-offers.ts, and one file
 * per programme: check-inactivity.ts … check-campaigns.ts, sharing check-context.ts), with every
 * expression (dsl/expr/typecheck.ts), schedule (dsl/time/cron-parse.ts) and time zone (dsl/time/zones.ts) checked →
 * IR (dsl/rules/ruleset.ts). Next: dsl/runtime/ruleset.ts compiles the IR. A ruleset with any error yields no IR,
 * so a half-valid ruleset never runs.
 */

import type { Diagnostic } from "../errors";
import { buildScope } from "../expr/fields";
import { LIMITS } from "../limits";
import { readBilling } from "./check-billing";
import { readCampaigns } from "./check-campaigns";
import { readCardExpiry } from "./check-card-expiry";
import { readFields, readPlans, readReasons, readSegments, readSettings } from "./check-catalog";
import { CheckContext, type References, type RuleSource } from "./check-context";
import { readDunning } from "./check-dunning";
import { readInactivity } from "./check-inactivity";
import { checkTemplateVariables, readMessages } from "./check-messages";
import { readFrequencyCaps, readOfferPolicy, readOffers, readRewards } from "./check-offers";
import { usesOf, warnUnused } from "./check-unused";
import { readWinback } from "./check-winback";
import type { SourceFile } from "./load";
import { RULESET_FORMAT, type RulesetIR } from "./ruleset";
import { sha256Hex } from "./sha256";

export type { RuleSource };

export interface CheckResult {
  /** Present only when there are no errors. */
  ruleset?: RulesetIR;
  /** The errors: any one of them means no ruleset. */
  diagnostics: Diagnostic[];
  /**
   * Advice that does not stop the ruleset (`severity: "warning"`): segments, rewards and messages
   * nothing uses. Only for a ruleset without errors.
   */
  warnings: Diagnostic[];
}

/**
 * Checks a ruleset made of several files. Sections merge across files; every key must be unique
 * across all of them.
 *
 * @example checkRuleset([{ path: "rules/segments.yaml", text: "segments:\n  vip: ltv >= $500\n" }])
 */
export function checkRuleset(files: readonly RuleSource[]): CheckResult {
  return run(new CheckContext(files));
}

function run(c: CheckContext): CheckResult {
  const firstReader = c.loadFiles();
  const draft: Draft = {};
  for (const pass of CHECK_PASSES) pass.run(c, draft);
  if (!firstReader && c.files.length === 0) {
    c.report.add({
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
  const ir = c.report.diagnostics.length > 0 ? undefined : assemble(c, draft);
  const diagnostics = sortDiagnostics(withoutEchoesOfUnreadableFiles(c.report.diagnostics));
  if (diagnostics.some((d) => d.severity === "error") || !ir) return { diagnostics, warnings: [] };
  return { ruleset: ir, diagnostics, warnings: sortDiagnostics(c.warnings) };
}

/**
 * What the passes have read so far. A pass fills its own sections; later passes read earlier ones
 * (the order below is what makes each section's references resolvable when it is read).
 */
export interface Draft {
  settings?: ReturnType<typeof readSettings>;
  reasons?: RulesetIR["reasons"];
  plans?: RulesetIR["plans"];
  fields?: ReturnType<typeof readFields>;
  segmentEntries?: ReturnType<CheckContext["mapEntries"]>;
  segments?: RulesetIR["segments"];
  rewards?: RulesetIR["rewards"];
  messages?: RulesetIR["messages"];
  frequencyCaps?: RulesetIR["frequencyCaps"];
  offers?: RulesetIR["offers"];
  refs?: References;
  offerPolicy?: RulesetIR["offerPolicy"];
  inactivity?: RulesetIR["inactivity"];
  dunning?: RulesetIR["dunning"];
  cardExpiry?: RulesetIR["cardExpiry"];
  winback?: RulesetIR["winback"];
  campaigns?: RulesetIR["campaigns"];
  billing?: RulesetIR["billing"];
}

/** One stage of the checker: reads one part of the rules, reporting into the context. */
export interface CheckPass {
  readonly name: string;
  run(c: CheckContext, draft: Draft): void;
}

/** A pass that reads one section into the draft: most passes are just that. */
function section<K extends keyof Draft>(
  name: string,
  key: K,
  read: (c: CheckContext, draft: Draft) => Draft[K],
): CheckPass {
  return {
    name,
    run(c, draft) {
      draft[key] = read(c, draft);
    },
  };
}

/**
 * The checker's passes, in the order they run. What a rule may refer to decides the order: the
 * catalog (settings, reasons, plans, fields) builds the expression scope; segments may use fields;
 * offers use segments, rewards and messages; programmes use all of those; template variables are
 * checked last, once every message use is known.
 */
export const CHECK_PASSES: readonly CheckPass[] = [
  {
    name: "settings",
    run(c, d) {
      d.settings = readSettings(c);
      c.currency = d.settings.currency;
      c.exchangeRates = d.settings.exchangeRates;
    },
  },
  section("reasons", "reasons", readReasons),
  section("plans", "plans", readPlans),
  section("fields", "fields", readFields),
  section("billing", "billing", (c, d) => readBilling(c, d.reasons!, d.plans!)),
  {
    name: "scope",
    run(c, d) {
      d.segmentEntries = c.limit(c.mapEntries("segments"), LIMITS.maxSegments, "segments");
      for (const entry of d.segmentEntries) c.definitions.segments.set(entry.key, entry);
      c.scope = buildScope({
        defaultCurrency: c.currency,
        exchangeRates: c.exchangeRates,
        ...(d.settings!.eventRetentionMs !== null ? { eventRetentionMs: d.settings!.eventRetentionMs } : {}),
        reasons: d.reasons!.map((r) => r.key),
        ...(d.plans ? { plans: d.plans } : {}),
        customFields: d.fields!.map((f) => ({
          name: f.name,
          type: f.parsed,
          description: f.description ?? "",
        })),
      });
      // Segment references resolve through this map, filled in dependency order.
      c.scope = { ...c.scope, segments: c.segmentInfo };
    },
  },
  section("segments", "segments", (c, d) => readSegments(c, d.segmentEntries!)),
  section("rewards", "rewards", readRewards),
  section("messages", "messages", readMessages),
  section("frequency_caps", "frequencyCaps", readFrequencyCaps),
  {
    name: "offers",
    run(c, d) {
      // Declared keys, valid or not: a broken reward is reported once, not again at every use.
      const rewardKeys = new Set(c.declared.rewards);
      const messageKeys = new Set(c.declared.messages);
      const reasonKeys = new Set(d.reasons!.map((r) => r.key));
      d.offers = readOffers(c, d.rewards!, rewardKeys, messageKeys, reasonKeys);
      d.refs = {
        rewardKeys,
        messageKeys,
        reasonKeys,
        offerKeys: new Set(c.declared.offers),
        plans: d.plans ? new Set(d.plans) : null,
      };
    },
  },
  section("offer_policy", "offerPolicy", readOfferPolicy),
  section("inactivity", "inactivity", (c, d) => readInactivity(c, d.refs!)),
  section("dunning", "dunning", (c, d) => readDunning(c, d.refs!)),
  section("card_expiry", "cardExpiry", (c, d) => readCardExpiry(c, d.refs!)),
  section("winback", "winback", (c, d) => readWinback(c, d.refs!)),
  section("campaigns", "campaigns", (c, d) =>
    readCampaigns(c, d.refs!, new Set(d.frequencyCaps!.map((cap) => cap.key))),
  ),
  { name: "template_variables", run: (c) => checkTemplateVariables(c) },
  // Last, and only for rules without errors: a reference that failed would make its target look unused.
  {
    name: "unused",
    run(c, d) {
      if (c.report.diagnostics.length === 0) warnUnused(c, usesOf(d as Required<Draft>));
    },
  },
];

/** The IR from a draft every pass has filled without an error. */
function assemble(c: CheckContext, d: Draft): RulesetIR {
  const { settings, fields } = d;
  return {
    format: RULESET_FORMAT,
    version: rulesetVersion(c.files),
    currency: c.currency,
    exchangeRates: c.exchangeRates,
    defaultTimezone: settings!.defaultTimezone,
    reasons: d.reasons!,
    plans: d.plans!,
    fields: fields!.map(({ name, type, description }) => ({ name, type, description })),
    eventWindowMs: Number.isFinite(c.eventWindowMs) ? c.eventWindowMs : null,
    eventRetentionMs: settings!.eventRetentionMs,
    metrics: settings!.metrics,
    segments: d.segments!,
    rewards: d.rewards!,
    offers: d.offers!,
    offerPolicy: d.offerPolicy!,
    frequencyCaps: d.frequencyCaps!,
    messages: d.messages!,
    inactivity: d.inactivity!,
    dunning: d.dunning!,
    cardExpiry: d.cardExpiry!,
    winback: d.winback!,
    campaigns: d.campaigns!,
    billing: d.billing!,
  };
}

/** Errors that a key defined in a file that does not parse would cause everywhere it is used. */
const REFERENCE_CODES: ReadonlySet<string> = new Set([
  "unknown_field",
  "unknown_segment",
  "unknown_reason",
  "unknown_reward",
  "unknown_message",
  "unknown_offer",
  "unknown_plan",
  "unknown_frequency_cap",
  "unknown_enum_value",
]);

/**
 * When a file has a YAML syntax error its keys are missing from the ruleset, so every use of them
 * elsewhere would be reported as unknown, burying the one real error under a screenful of echoes.
 * Those reference errors are dropped (the build still fails on the syntax error) and the syntax
 * error says why.
 */
function withoutEchoesOfUnreadableFiles(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  if (!diagnostics.some((d) => d.code === "yaml_syntax")) return [...diagnostics];
  return diagnostics
    .filter((d) => !REFERENCE_CODES.has(d.code))
    .map((d) =>
      d.code === "yaml_syntax" && d.hint === undefined
        ? {
            ...d,
            hint: "keys defined in this file are not known until it parses: references are checked then",
          }
        : d,
    );
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
