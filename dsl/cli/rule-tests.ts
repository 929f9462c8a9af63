/**
 * `rebound test`: runs the `*.test.yaml` cases kept beside the rules. A case gives a customer (with
 * events and offer history) and a moment, and expects segment membership, the next offer per
 * context (or none, with its reason code), campaign audience membership and variant, the dunning
 * step, due inactivity nudges and the win-back step. See docs/rules.md#testing-rules.
 *
 * Stage: CLI, after check + runtime. A malformed test file is a located diagnostic, never a crash.
 */

import type { Diagnostic } from "../errors";
import { parseTimestampText } from "../expr/lexer";
import type { RuleSource } from "../rules/check";
import {
  diagnosticAt,
  loadRuleFile,
  positionOf,
  type SourceFile,
  type YamlMap,
  type YamlNode,
} from "../rules/load";
import type { OfferContext } from "../rules/ruleset";
import { OFFER_CONTEXTS } from "../rules/ruleset";
import { decideOffer, type OfferDecision } from "../runtime/decide";
import {
  campaignAssignment,
  cardRemindersDue,
  dunningPosition,
  inactivityDue,
  inCampaignAudience,
  winbackPosition,
} from "../runtime/programmes";
import { type Ruleset, segmentsOf } from "../runtime/ruleset";
import { closest } from "../suggest";
import { customerInput, InputError, isRelativeMoment } from "./customer-input";

export interface CaseFailure {
  what: string;
  expected: string;
  actual: string;
  /** Why the actual result came out as it did (e.g. the offer decision's `why`). */
  detail?: string;
}

export interface CaseResult {
  file: string;
  line: number;
  name: string;
  ok: boolean;
  failures: CaseFailure[];
}

export interface TestRun {
  results: CaseResult[];
  /** Problems in the test files themselves (located). */
  diagnostics: Diagnostic[];
}

/** When a case gives no `at`: fixed, so a case without one is still deterministic. */
const DEFAULT_AT = Date.UTC(2026, 0, 1);
const CASE_FIELDS = ["name", "at", "customer", "events", "history", "expect"];
const EXPECT_FIELDS = [
  "segments",
  "offer",
  "campaigns",
  "dunning",
  "card_reminders",
  "inactivity",
  "winback",
];
const OFFER_FIELDS = ["context", "reason", "key", "reward", "message", "variant", "none"];

/** Runs every case of every test file against a compiled ruleset. */
export function runRuleTests(ruleset: Ruleset, files: readonly RuleSource[]): TestRun {
  const results: CaseResult[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const loaded = loadRuleFile(file.path, file.text);
    diagnostics.push(...loaded.diagnostics);
    if (!loaded.root) continue;
    const fail = (node: YamlNode, message: string, hint?: string) =>
      diagnostics.push(
        diagnosticAt(
          loaded.source,
          { start: node.start, end: lineEnd(loaded.source, node) },
          "schema_violation",
          message,
          hint,
        ),
      );
    const root = loaded.root;
    const testsNode =
      root.kind === "map" ? root.pairs.find((p) => p.key.value === "tests")?.value : undefined;
    if (root.kind !== "map" || !testsNode || testsNode.kind !== "seq") {
      fail(root, "a test file has `tests:`, a list of cases");
      continue;
    }
    for (const caseNode of testsNode.items) {
      const result = runCase(ruleset, loaded.source, caseNode, fail, (d) => diagnostics.push(d));
      if (result) results.push(result);
    }
  }
  return { results, diagnostics };
}

function lineEnd(source: SourceFile, node: YamlNode): number {
  const newline = source.text.indexOf("\n", node.start);
  return Math.max(node.start + 1, Math.min(node.end, newline === -1 ? source.text.length : newline));
}

function runCase(
  ruleset: Ruleset,
  source: SourceFile,
  caseNode: YamlNode,
  fail: (node: YamlNode, message: string, hint?: string) => void,
  report: (diagnostic: Diagnostic) => void,
): CaseResult | undefined {
  if (caseNode.kind !== "map") {
    fail(caseNode, "a test case is a mapping with name, at, customer and expect");
    return undefined;
  }
  if (!checkKeys(caseNode, CASE_FIELDS, "a test case", fail)) return undefined;
  const data = plain(caseNode) as Record<string, unknown>;
  const line = positionOf(source, caseNode.start).line;
  const name = typeof data.name === "string" ? data.name : `case at line ${line}`;
  const result: CaseResult = { file: source.path, line, name, ok: true, failures: [] };
  const expectNode = field(caseNode, "expect");
  if (!expectNode || expectNode.kind !== "map") {
    fail(caseNode, "a test case needs `expect:`");
    return undefined;
  }
  if (!checkKeys(expectNode, EXPECT_FIELDS, "`expect`", fail)) return undefined;
  const atNode = field(caseNode, "at");
  const at = atNode ? caseMoment(source, atNode, report) : DEFAULT_AT;
  if (at === null) return undefined;
  try {
    const { ctx, history } = customerInput(ruleset, data, at);
    const expect = data.expect as Record<string, unknown>;
    const failures = result.failures;
    if (expect.segments !== undefined) {
      const expected = asList(expect.segments, "expect.segments").map(String).sort();
      for (const key of expected) {
        if (!ruleset.segments.has(key)) throw new InputError(`expect.segments: unknown segment \`${key}\``);
      }
      const actual = segmentsOf(ruleset, ctx).sort();
      if (expected.join(",") !== actual.join(",")) {
        failures.push({ what: "segments", expected: show(expected), actual: show(actual) });
      }
    }
    if (expect.offer !== undefined) {
      const offerNode = field(expectNode, "offer")!;
      const items = offerNode.kind === "seq" ? offerNode.items : [offerNode];
      for (const item of items) {
        if (item.kind === "map" && !checkKeys(item, OFFER_FIELDS, "an offer expectation", fail))
          return undefined;
        checkOffer(ruleset, ctx, history, plain(item), failures);
      }
    }
    if (expect.campaigns !== undefined) {
      for (const [key, want] of Object.entries(asRecord(expect.campaigns, "expect.campaigns"))) {
        const campaign = ruleset.campaigns.get(key);
        if (!campaign) throw new InputError(`expect.campaigns: unknown campaign \`${key}\``);
        const inAudience = inCampaignAudience(campaign, ctx);
        const assignment = campaignAssignment(campaign, String(ctx.customer.id));
        const wanted =
          typeof want === "boolean" ? { audience: want } : asRecord(want, `expect.campaigns.${key}`);
        if (wanted.audience !== undefined && wanted.audience !== inAudience) {
          failures.push({
            what: `campaign ${key} audience`,
            expected: String(wanted.audience),
            actual: String(inAudience),
          });
        }
        if (wanted.holdout !== undefined && wanted.holdout !== assignment.holdout) {
          failures.push({
            what: `campaign ${key} holdout`,
            expected: String(wanted.holdout),
            actual: String(assignment.holdout),
          });
        }
        if (wanted.variant !== undefined && wanted.variant !== assignment.variant) {
          failures.push({
            what: `campaign ${key} variant`,
            expected: String(wanted.variant),
            actual: String(assignment.variant),
          });
        }
      }
    }
    if (expect.dunning !== undefined) {
      const position = dunningPosition(ruleset, ctx);
      const actual = !position
        ? "none"
        : position.final
          ? "final"
          : position.stepIndex === null
            ? "none"
            : `day ${position.cadence.ir.steps[position.stepIndex]!.day}`;
      const want = expect.dunning;
      const expected =
        typeof want === "object" && want !== null && "day" in want
          ? `day ${(want as { day: unknown }).day}`
          : String(want);
      if (expected !== actual) failures.push({ what: "dunning step", expected, actual });
    }
    if (expect.card_reminders !== undefined) {
      const expected = asList(expect.card_reminders, "expect.card_reminders").map(String);
      const actual = cardRemindersDue(ruleset, ctx).map((reminder) => String(reminder.daysBefore));
      if (expected.join(",") !== actual.join(",")) {
        failures.push({
          what: "card-expiry reminders due (days before)",
          expected: show(expected),
          actual: show(actual),
        });
      }
    }
    if (expect.inactivity !== undefined) {
      const expected = asList(expect.inactivity, "expect.inactivity").map(String).sort();
      const actual = inactivityDue(ruleset, ctx)
        .map((due) => due.rule.ir.key)
        .sort();
      if (expected.join(",") !== actual.join(",")) {
        failures.push({ what: "inactivity nudges due", expected: show(expected), actual: show(actual) });
      }
    }
    if (expect.winback !== undefined) {
      const position = winbackPosition(ruleset, ctx);
      const actual =
        !position || position.stepIndex === null
          ? "none"
          : `${position.sequence.ir.key} day ${position.schedule[position.stepIndex]!.day}`;
      const want = expect.winback;
      const expected =
        typeof want === "object" && want !== null
          ? `${(want as Record<string, unknown>).sequence} day ${(want as Record<string, unknown>).day}`
          : String(want);
      if (expected !== actual) failures.push({ what: "win-back step", expected, actual });
    }
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    fail(caseNode, `test case "${name}": ${error.message}`);
    return undefined;
  }
  result.ok = result.failures.length === 0;
  return result;
}

/**
 * The moment a case runs at, or null once a bad one is reported. Only an absolute ISO 8601 time is
 * accepted: `now` or `10d ago` would move with the clock (or, measured from nothing, land in 1970),
 * and a case must give the same answer on every machine and every day.
 */
function caseMoment(
  source: SourceFile,
  atNode: YamlNode,
  report: (diagnostic: Diagnostic) => void,
): number | null {
  const text = atNode.kind === "scalar" && typeof atNode.value === "string" ? atNode.value.trim() : null;
  const ms = text === null ? null : parseTimestampText(text);
  if (ms !== null) return ms;
  const written =
    atNode.kind === "scalar"
      ? JSON.stringify(atNode.value)
      : `a ${atNode.kind === "map" ? "mapping" : "list"}`;
  const relative = text !== null && isRelativeMoment(text);
  report(
    diagnosticAt(
      source,
      { start: atNode.start, end: lineEnd(source, atNode) },
      "bad_timestamp",
      relative
        ? `\`at\`: ${written} depends on when the test runs; a test case runs at a fixed time`
        : `\`at\`: ${written} is not an absolute ISO 8601 time`,
      'write a date (2026-03-03) or a date-time with a zone (2026-03-03T15:00:00Z); times inside the case may be relative to it ("10d ago")',
    ),
  );
  return null;
}

function checkOffer(
  ruleset: Ruleset,
  ctx: Parameters<typeof decideOffer>[1],
  history: NonNullable<Parameters<typeof decideOffer>[2]["history"]>,
  value: unknown,
  failures: CaseFailure[],
): void {
  const want = value === "none" ? { none: true } : asRecord(value, "expect.offer");
  const context = (want.context ?? "cancel_flow") as OfferContext;
  if (!OFFER_CONTEXTS.includes(context))
    throw new InputError(`expect.offer.context: unknown context \`${context}\``);
  const reason = typeof want.reason === "string" ? want.reason : null;
  if (reason !== null && !ruleset.reasons.has(reason))
    throw new InputError(`expect.offer.reason: unknown reason \`${reason}\``);
  const decision = decideOffer(ruleset, ctx, { context, reason, history, explain: true });
  const label = `offer (${context}${reason ? `, ${reason}` : ""})`;
  const actual = describeDecision(decision);
  const detail = decision.why;
  if (want.none !== undefined && want.none !== false) {
    const code = want.none === true ? null : String(want.none);
    if (decision.offer !== null || (code !== null && decision.reasonCode !== code)) {
      failures.push({ what: label, expected: code ? `none (${code})` : "none", actual, detail });
    }
    return;
  }
  if (typeof want.key === "string" && !ruleset.offers.some((o) => o.key === want.key)) {
    throw new InputError(
      `expect.offer.key: unknown offer \`${want.key}\`${hint(
        String(want.key),
        ruleset.offers.map((o) => o.key),
      )}`,
    );
  }
  const mismatch =
    decision.offer === null ||
    (want.key !== undefined && decision.offer.key !== want.key) ||
    (want.reward !== undefined && decision.offer.reward.key !== want.reward) ||
    (want.message !== undefined && decision.offer.message !== want.message) ||
    (want.variant !== undefined && decision.variant !== want.variant);
  if (mismatch) {
    const expected = [
      want.key !== undefined ? `offer ${String(want.key)}` : "an offer",
      want.reward !== undefined ? `reward ${String(want.reward)}` : "",
      want.message !== undefined ? `message ${String(want.message)}` : "",
      want.variant !== undefined ? `variant ${String(want.variant)}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    failures.push({ what: label, expected, actual, detail: failingTrace(decision) ?? detail });
  }
}

function describeDecision(decision: OfferDecision): string {
  if (!decision.offer) return `none (${decision.reasonCode})`;
  return `offer ${decision.offer.key}, reward ${decision.offer.reward.key}, message ${decision.offer.message}${
    decision.variant ? `, variant ${decision.variant}` : ""
  }`;
}

/** The trace lines that explain a wrong decision, one per offer looked at. */
function failingTrace(decision: OfferDecision): string | undefined {
  const lines = decision.trace
    .filter((entry) => entry.outcome !== "not_evaluated")
    .map((entry) => {
      const failure = entry.condition?.failure;
      const values = failure?.values.map((v) => `${v.expression} = ${v.value}`).join(", ");
      return `${entry.offer}: ${entry.outcome} (${entry.detail}${values ? `; ${values}` : ""})`;
    });
  return lines.length > 0 ? `${decision.why}\n${lines.join("\n")}` : undefined;
}

function hint(word: string, candidates: string[]): string {
  const suggestion = closest(word, candidates);
  return suggestion ? ` (did you mean \`${suggestion}\`?)` : "";
}

function checkKeys(
  map: YamlMap,
  allowed: readonly string[],
  what: string,
  fail: (node: YamlNode, message: string, hint?: string) => void,
): boolean {
  let ok = true;
  for (const pair of map.pairs) {
    const key = String(pair.key.value);
    if (!allowed.includes(key)) {
      const suggestion = closest(key, allowed);
      fail(
        pair.key,
        `unknown field \`${key}\` in ${what}`,
        suggestion ? `did you mean \`${suggestion}\`?` : `allowed: ${allowed.join(", ")}`,
      );
      ok = false;
    }
  }
  return ok;
}

function field(map: YamlMap, key: string): YamlNode | undefined {
  return map.pairs.find((p) => p.key.value === key)?.value;
}

/** The plain JavaScript value of a positioned YAML node. */
export function plain(node: YamlNode): unknown {
  if (node.kind === "scalar") return node.value;
  if (node.kind === "seq") return node.items.map(plain);
  return Object.fromEntries(node.pairs.map((p) => [String(p.key.value), plain(p.value)]));
}

function asList(value: unknown, where: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new InputError(`${where}: expected a list`);
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw new InputError(`${where}: expected a mapping`);
}

function show(keys: readonly string[]): string {
  return keys.length === 0 ? "(none)" : keys.join(", ");
}
