/**
 * The ruleset checker: rule files in, one checked `RulesetIR` out, or every error it can find (up to
 * LIMITS.maxDiagnostics), each at `file:line:col`.
 *
 * Stage: load (dsl/rules/load.ts) → shape (dsl/rules/reader.ts) → sections (dsl/rules/check-catalog.ts,
 * check-messages.ts, check-offers.ts, check-programmes.ts, sharing dsl/rules/check-context.ts), with every
 * expression (dsl/expr/typecheck.ts), schedule (dsl/time/cron.ts) and time zone (dsl/time/timezone.ts) checked →
 * IR (dsl/rules/ruleset.ts). Next: dsl/runtime/ruleset.ts compiles the IR. A ruleset with any error yields no IR,
 * so a half-valid ruleset never runs.
 */

import type { Diagnostic } from "../errors";
import { buildScope } from "../expr/fields";
import { LIMITS } from "../limits";
import { readFields, readPlans, readReasons, readSegments, readSettings } from "./check-catalog";
import { CheckContext, type References, type RuleSource } from "./check-context";
import { checkTemplateVariables, readMessages } from "./check-messages";
import { readFrequencyCaps, readOfferPolicy, readOffers, readRewards } from "./check-offers";
import { readCampaigns, readCardExpiry, readDunning, readInactivity, readWinback } from "./check-programmes";
import type { SourceFile } from "./load";
import type { Reader } from "./reader";
import { RULESET_FORMAT, type RulesetIR } from "./ruleset";
import { sha256Hex } from "./sha256";

export type { RuleSource };

export interface CheckResult {
  /** Present only when there are no errors. */
  ruleset?: RulesetIR;
  diagnostics: Diagnostic[];
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
  const ir = build(c, firstReader);
  const diagnostics = sortDiagnostics(withoutEchoesOfUnreadableFiles(c.report.diagnostics));
  if (diagnostics.some((d) => d.severity === "error") || !ir) return { diagnostics };
  return { ruleset: ir, diagnostics };
}

function build(c: CheckContext, firstReader: Reader | undefined): RulesetIR | undefined {
  const settings = readSettings(c);
  c.currency = settings.currency;
  const reasons = readReasons(c);
  const plans = readPlans(c);
  const fields = readFields(c);
  const segmentEntries = c.limit(c.mapEntries("segments"), LIMITS.maxSegments, "segments");
  c.scope = buildScope({
    defaultCurrency: c.currency,
    reasons: reasons.map((r) => r.key),
    ...(plans ? { plans } : {}),
    customFields: fields.map((f) => ({ name: f.name, type: f.parsed, description: f.description ?? "" })),
  });
  // Segment references resolve through this map, filled in dependency order.
  c.scope = { ...c.scope, segments: c.segmentInfo };
  const segments = readSegments(c, segmentEntries);
  const rewards = readRewards(c);
  // Declared keys, valid or not: a broken reward is reported once, not again at every use.
  const rewardKeys = new Set(c.declared.rewards);
  const messages = readMessages(c);
  const messageKeys = new Set(c.declared.messages);
  const reasonKeys = new Set(reasons.map((r) => r.key));
  const frequencyCaps = readFrequencyCaps(c);
  const offers = readOffers(c, rewards, rewardKeys, messageKeys, reasonKeys);
  const offerKeys = new Set(c.declared.offers);
  const refs: References = {
    rewardKeys,
    messageKeys,
    reasonKeys,
    offerKeys,
    plans: plans ? new Set(plans) : null,
  };
  const offerPolicy = readOfferPolicy(c);
  const inactivity = readInactivity(c, refs);
  const dunning = readDunning(c, refs);
  const cardExpiry = readCardExpiry(c, refs);
  const winback = readWinback(c, refs);
  const campaigns = readCampaigns(c, refs, new Set(frequencyCaps.map((c) => c.key)));
  checkTemplateVariables(c);
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
  if (c.report.diagnostics.length > 0) return undefined;
  return {
    format: RULESET_FORMAT,
    version: rulesetVersion(c.files),
    currency: c.currency,
    defaultTimezone: settings.defaultTimezone,
    reasons,
    plans,
    fields: fields.map(({ name, type, description }) => ({ name, type, description })),
    eventWindowMs: Number.isFinite(c.eventWindowMs) ? c.eventWindowMs : null,
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
