/**
 * `rebound test`: runs the `*.test.yaml` cases kept beside the rules. A case gives a customer (with
 * events and offer history) and a moment, and expects what the customer would see: segment
 * membership, the next offer per context (its reward, message, expiry and rendered subject and
 * body, or none with its reason code), campaign audience membership and variant, the dunning step,
 * due inactivity nudges, the win-back step, and the whole schedule of programme steps (which message
 * on which day, and the final action). See docs/rules.md#testing-rules.
 *
 * Every answer comes from the runtime's pure functions (dsl/runtime/decide.ts, programmes.ts,
 * messages.ts), the ones the Worker calls. A failure is located at the expectation that failed.
 *
 * Stage: CLI, after dsl/cli/test-file-check.ts has checked the files (a malformed case is a located
 * diagnostic there, never run here).
 */

import type { Diagnostic } from "../errors";
import type { EvalContext } from "../expr/types";
import type { RuleSource } from "../rules/check";
import { getPair, positionOf, type YamlNode } from "../rules/load";
import type { OfferContext } from "../rules/ruleset";
import { type ChosenOffer, decideOffer, type OfferDecision, type OfferHistory } from "../runtime/decide";
import { renderMessage } from "../runtime/messages";
import {
  campaignAssignment,
  cardRemindersDue,
  DAY_MS,
  dunningPosition,
  inactivityDue,
  inCampaignAudience,
  winbackPosition,
} from "../runtime/programmes";
import { type Ruleset, segmentsOf } from "../runtime/ruleset";
import { checkTestFiles, plain, type TestCase } from "./test-file-check";
import { programmeSteps, type ScheduledStep } from "./test-steps";

export interface CaseFailure {
  what: string;
  expected: string;
  actual: string;
  /** Why the actual result came out as it did (e.g. the offer decision's `why`). */
  detail?: string;
  /** Where the failing expectation is written. */
  line: number;
  column: number;
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

/** The company name messages render with in a test (`{{ company_name }}`): fixed, so cases are stable. */
export const TEST_COMPANY_NAME = "Acme Analytics";
/** The decision id an offer message renders with in a test (`{{ decision_id }}`). */
export const TEST_DECISION_ID = "dec_test";

/** Checks every test file, then runs every case that passed the checks. */
export function runRuleTests(ruleset: Ruleset, files: readonly RuleSource[]): TestRun {
  const checked = checkTestFiles(ruleset, files);
  return { results: checked.cases.map((c) => runCase(ruleset, c)), diagnostics: checked.diagnostics };
}

type Fail = (node: YamlNode, failure: Omit<CaseFailure, "line" | "column">) => void;

function runCase(ruleset: Ruleset, testCase: TestCase): CaseResult {
  const { ctx, history } = testCase.input;
  const failures: CaseFailure[] = [];
  const fail: Fail = (node, failure) => {
    const { line, column } = positionOf(testCase.source, node.start);
    failures.push({ ...failure, line, column });
  };
  const expect = testCase.expect;
  const node = (name: string) => getPair(expect, name)?.value;
  const segments = node("segments");
  if (segments) {
    const expected = (plain(segments) as string[]).map(String).sort();
    const actual = segmentsOf(ruleset, ctx).sort();
    if (expected.join(",") !== actual.join(","))
      fail(segments, { what: "segments", expected: show(expected), actual: show(actual) });
  }
  const offer = node("offer");
  if (offer) {
    const items = offer.kind === "seq" ? offer.items : [offer];
    for (const item of items) checkOffer(ruleset, ctx, history, item, fail);
  }
  const campaigns = node("campaigns");
  if (campaigns?.kind === "map") {
    for (const pair of campaigns.pairs) {
      const key = String(pair.key.value);
      const campaign = ruleset.campaigns.get(key)!;
      const inAudience = inCampaignAudience(campaign, ctx);
      const assignment = campaignAssignment(campaign, String(ctx.customer.id));
      const want = plain(pair.value);
      const wanted = (typeof want === "boolean" ? { audience: want } : want) as Record<string, unknown>;
      const at = (name: string) =>
        (pair.value.kind === "map" ? getPair(pair.value, name)?.value : undefined) ?? pair.value;
      for (const [name, actual] of [
        ["audience", inAudience],
        ["holdout", assignment.holdout],
        ["variant", assignment.variant],
      ] as const) {
        if (wanted[name] !== undefined && wanted[name] !== actual) {
          fail(at(name), {
            what: `campaign ${key} ${name}`,
            expected: String(wanted[name]),
            actual: String(actual),
          });
        }
      }
    }
  }
  const dunning = node("dunning");
  if (dunning) {
    const position = dunningPosition(ruleset, ctx);
    const actual = !position
      ? "none"
      : position.final
        ? "final"
        : position.stepIndex === null
          ? "none"
          : `day ${position.cadence.ir.steps[position.stepIndex]!.day}`;
    const want = plain(dunning);
    const expected =
      typeof want === "object" && want !== null && "day" in want
        ? `day ${(want as { day: unknown }).day}`
        : String(want);
    if (expected !== actual) fail(dunning, { what: "dunning step", expected, actual });
  }
  const cardReminders = node("card_reminders");
  if (cardReminders) {
    const expected = (plain(cardReminders) as unknown[]).map(String);
    const actual = cardRemindersDue(ruleset, ctx).map((reminder) => String(reminder.daysBefore));
    if (expected.join(",") !== actual.join(",")) {
      fail(cardReminders, {
        what: "card-expiry reminders due (days before)",
        expected: show(expected),
        actual: show(actual),
      });
    }
  }
  const inactivity = node("inactivity");
  if (inactivity) {
    const expected = (plain(inactivity) as unknown[]).map(String).sort();
    const actual = inactivityDue(ruleset, ctx)
      .map((due) => due.rule.ir.key)
      .sort();
    if (expected.join(",") !== actual.join(","))
      fail(inactivity, { what: "inactivity nudges due", expected: show(expected), actual: show(actual) });
  }
  const winback = node("winback");
  if (winback) {
    const position = winbackPosition(ruleset, ctx);
    const actual =
      !position || position.stepIndex === null
        ? "none"
        : `${position.sequence.ir.key} day ${position.schedule[position.stepIndex]!.day}`;
    const want = plain(winback);
    const expected =
      typeof want === "object" && want !== null
        ? `${(want as Record<string, unknown>).sequence} day ${(want as Record<string, unknown>).day}`
        : String(want);
    if (expected !== actual) fail(winback, { what: "win-back step", expected, actual });
  }
  const steps = node("steps");
  if (steps?.kind === "seq") checkSteps(ruleset, ctx, history, steps.items, steps, fail);
  return {
    file: testCase.source.path,
    line: testCase.line,
    name: testCase.name,
    ok: failures.length === 0,
    failures,
  };
}

function checkOffer(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  node: YamlNode,
  fail: Fail,
): void {
  const want = (node.kind === "scalar" ? { none: true } : plain(node)) as Record<string, unknown>;
  const context = (want.context ?? "cancel_flow") as OfferContext;
  const reason = typeof want.reason === "string" ? want.reason : null;
  const decision = decideOffer(ruleset, ctx, { context, reason, history, explain: true });
  const label = `offer (${context}${reason ? `, ${reason}` : ""})`;
  const actual = describeDecision(decision);
  const at = (name: string) => (node.kind === "map" ? getPair(node, name)?.value : undefined) ?? node;
  if (want.none !== undefined && want.none !== false) {
    const code = want.none === true ? null : String(want.none);
    if (decision.offer !== null || (code !== null && decision.reasonCode !== code)) {
      fail(at("none"), {
        what: label,
        expected: code ? `none (${code})` : "none",
        actual,
        detail: decision.why,
      });
    }
    return;
  }
  const chosen = decision.offer;
  const mismatch =
    chosen === null ||
    (want.key !== undefined && chosen.key !== want.key) ||
    (want.reward !== undefined && chosen.reward.key !== want.reward) ||
    (want.message !== undefined && chosen.message !== want.message) ||
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
    const first = ["key", "reward", "message", "variant"].find((name) => want[name] !== undefined);
    fail(first ? at(first) : node, {
      what: label,
      expected,
      actual,
      detail: failingTrace(decision) ?? decision.why,
    });
    return;
  }
  checkExpiry(ctx.now, chosen, node, want, label, fail);
  if (want.subject !== undefined || want.body !== undefined) {
    const rendered = renderMessage(ruleset, chosen.message, {
      customer: ctx.customer,
      companyName: TEST_COMPANY_NAME,
      offer: chosen,
      decisionId: TEST_DECISION_ID,
    });
    checkText(rendered.subject, at("subject"), want.subject, `${label} subject`, fail);
    checkText(rendered.body, at("body"), want.body, `${label} body`, fail);
  }
}

/** `expires_at` (a fixed time) or `expires_in` (a duration from the case's `at`). */
function checkExpiry(
  now: number,
  chosen: ChosenOffer,
  node: YamlNode,
  want: Record<string, unknown>,
  label: string,
  fail: Fail,
): void {
  const at = (name: string) => (node.kind === "map" ? getPair(node, name)?.value : undefined) ?? node;
  const actual = new Date(chosen.expiresAt).toISOString();
  if (typeof want.expires_at === "string") {
    const expected = Date.parse(/T/.test(want.expires_at) ? want.expires_at : `${want.expires_at}T00:00:00Z`);
    if (expected !== chosen.expiresAt) {
      fail(at("expires_at"), {
        what: `${label} expiry`,
        expected: new Date(expected).toISOString(),
        actual: `${actual} (${durationText(chosen.expiresAt - now)} after the case's at)`,
      });
    }
  }
  if (typeof want.expires_in === "string") {
    const expected = durationMs(want.expires_in);
    if (expected !== chosen.expiresAt - now) {
      fail(at("expires_in"), {
        what: `${label} expiry`,
        expected: `in ${want.expires_in}`,
        actual: `in ${durationText(chosen.expiresAt - now)} (${actual})`,
      });
    }
  }
}

/** A rendered subject or body against `text` (exact) or `{ contains: text | [texts] }`. */
function checkText(actual: string | null, node: YamlNode, want: unknown, what: string, fail: Fail): void {
  if (want === undefined) return;
  const shown = actual === null ? "(no subject)" : JSON.stringify(actual);
  if (typeof want === "string") {
    if (actual === null || normalise(actual) !== normalise(want))
      fail(node, { what, expected: JSON.stringify(want), actual: shown });
    return;
  }
  const contains = (want as { contains: unknown }).contains;
  for (const piece of Array.isArray(contains) ? contains : [contains]) {
    if (actual === null || !normalise(actual).includes(normalise(String(piece)))) {
      fail(node, { what, expected: `contains ${JSON.stringify(piece)}`, actual: shown });
    }
  }
}

/** Line breaks and runs of spaces compare as one space: YAML folds long text across lines. */
function normalise(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * `steps:`: every step of the programmes the customer is in (dunning, card expiry, inactivity,
 * win-back), in order, compared field by field with the expected list.
 */
function checkSteps(
  ruleset: Ruleset,
  ctx: EvalContext,
  history: OfferHistory,
  items: readonly YamlNode[],
  listNode: YamlNode,
  fail: Fail,
): void {
  const actual = programmeSteps(ruleset, ctx, history, {
    companyName: TEST_COMPANY_NAME,
    decisionId: TEST_DECISION_ID,
  });
  const schedule = actual.map(describeStep).join("\n");
  items.forEach((item, index) => {
    const want = plain(item) as Record<string, unknown>;
    const step = actual[index];
    const at = (name: string) => (item.kind === "map" ? getPair(item, name)?.value : undefined) ?? item;
    if (!step) {
      fail(item, {
        what: `step ${index + 1}`,
        expected: describeWanted(want),
        actual: "no such step",
        detail: `the schedule:\n${schedule || "(none)"}`,
      });
      return;
    }
    const fields: [string, unknown, unknown][] = [
      ["programme", want.programme, step.programme],
      ["day", want.day, step.day],
      ["days_before", want.days_before, step.daysBefore],
      ["rule", want.rule, step.rule],
      ["message", want.message, step.message],
      ["offer", want.offer, step.offer ?? "none"],
    ];
    const wrong = fields.find(([, expected, got]) => expected !== undefined && expected !== got);
    const finalWrong =
      want.final !== undefined &&
      [want.final].flat().map(String).sort().join(",") !== (step.final ?? []).slice().sort().join(",");
    if (wrong || finalWrong) {
      fail(at(wrong ? wrong[0] : "final"), {
        what: `step ${index + 1}`,
        expected: describeWanted(want),
        actual: describeStep(step),
        detail: `the schedule:\n${schedule}`,
      });
      return;
    }
    checkText(
      step.subject,
      at("subject"),
      want.subject,
      `step ${index + 1} (${describeStep(step)}) subject`,
      fail,
    );
    checkText(step.body, at("body"), want.body, `step ${index + 1} (${describeStep(step)}) body`, fail);
  });
  if (actual.length > items.length) {
    fail(listNode, {
      what: "programme steps",
      expected: `${items.length} step${items.length === 1 ? "" : "s"}`,
      actual: `${actual.length} steps`,
      detail: `the schedule:\n${schedule}`,
    });
  }
}

function describeStep(step: ScheduledStep): string {
  const when = step.daysBefore !== null ? `${step.daysBefore} days before` : `day ${step.day}`;
  const parts = [
    `${step.programme}${step.rule ? ` ${step.rule}` : step.sequence ? ` ${step.sequence}` : ""} ${when}`,
    step.message ? `message ${step.message}` : "no message",
    step.offer !== undefined ? `offer ${step.offer ?? "none"}` : "",
    step.final ? `final ${step.final.join(", ") || "(no action)"}` : "",
  ];
  return parts.filter(Boolean).join(", ");
}

function describeWanted(want: Record<string, unknown>): string {
  return Object.entries(want)
    .filter(([name]) => name !== "subject" && name !== "body")
    .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join(", ") : String(value)}`)
    .join(", ");
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

const UNIT_MS: Record<string, number> = { w: 604_800_000, d: DAY_MS, h: 3_600_000, m: 60_000, s: 1_000 };

function durationMs(text: string): number {
  let ms = 0;
  for (const part of text.matchAll(/(\d+)([wdhms])/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
  return ms;
}

function durationText(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const hours = Math.round((ms - days * DAY_MS) / 3_600_000);
  return `${days > 0 ? `${days}d` : ""}${hours > 0 || days === 0 ? `${hours}h` : ""}`;
}

function show(keys: readonly string[]): string {
  return keys.length === 0 ? "(none)" : keys.join(", ");
}
