/**
 * `rebound explain`: how the rules treat one customer at one moment. Every segment with whether the
 * customer is in it (and the first failing condition with actual values when not), then either the
 * offer decision with a trace of each offer in order, or one campaign's audience, holdout and variant.
 *
 * Stage: CLI over dsl/runtime/decide.ts, dsl/runtime/explain.ts and dsl/runtime/programmes.ts.
 */

import { OFFER_CONTEXTS, type OfferContext } from "../rules/ruleset";
import { decideOffer } from "../runtime/decide";
import { type ConditionFailure, type ConditionTrace, explainCondition } from "../runtime/explain";
import {
  campaignAssignment,
  cardRemindersDue,
  dunningPosition,
  inactivityDue,
  winbackPosition,
} from "../runtime/programmes";
import { closest } from "../suggest";
import { type Args, type Command, type Io, UsageError } from "./command";
import { readCustomerFile } from "./customer-file";
import { loadRulesOrFail, reportDiagnostics } from "./load-rules";
import { type Style, styleFor } from "./style";

export const explainCommand: Command = {
  name: "explain",
  synopsis:
    "explain --customer <file> --at <time> [--offer [name]] [--campaign <name>]\n" +
    "        [--context <context>] [--reason <reason>] [--dir <dir>]",
  summary: "trace how the rules treat one customer",
  options: {
    customer: { type: "string" },
    at: { type: "string" },
    offer: { type: "string" },
    campaign: { type: "string" },
    context: { type: "string" },
    reason: { type: "string" },
    dir: { type: "string" },
  },
  optionalValues: ["offer"],
  optionHelp: [
    ["--customer <file>", "the customer (YAML: the customer, or {customer, events, history})"],
    ["--at <time>", 'the moment: 2026-03-01T12:00:00Z, now, "10d ago", "in 3d"'],
    ["--offer [name]", "the offer decision; with a name, that offer alone"],
    ["--campaign <name>", "one campaign's audience, holdout and variant instead"],
    ["--context <context>", "where the offer is asked for (default: cancel_flow)"],
    ["--reason <reason>", "the cancellation reason"],
    ["--dir <dir>", "the rule directory (default: rules)"],
  ],
  run: explain,
};

function explain(args: Args, json: boolean, io: Io): number {
  const file = args.options.get("customer");
  const atText = args.options.get("at");
  if (typeof file !== "string" || typeof atText !== "string") {
    throw new UsageError("explain needs --customer <file> and --at <time> (e.g. 2026-03-01T12:00:00Z)");
  }
  const dir = String(args.options.get("dir") ?? args.positional[1] ?? "rules");
  const loaded = loadRulesOrFail(dir);
  if (reportDiagnostics(loaded, json, io)) return 1;
  const ruleset = loaded.ruleset!;
  const { ctx, history, at } = readCustomerFile(ruleset, file, atText);
  const segments = [...ruleset.segments.values()].map((segment) => ({
    key: segment.key,
    member: segment.when.test(ctx),
    trace: explainCondition(ruleset, segment.when, ctx),
  }));
  const campaignName = args.options.get("campaign");
  const style = styleFor({ isTTY: io.isTTY });
  if (typeof campaignName === "string") {
    const campaign = ruleset.campaigns.get(campaignName);
    if (!campaign) {
      const suggestion = closest(campaignName, ruleset.campaigns.keys());
      throw new UsageError(
        `unknown campaign \`${campaignName}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
      );
    }
    const audience = explainCondition(ruleset, campaign.audience, ctx);
    const assignment = campaignAssignment(campaign, String(ctx.customer.id));
    if (json) {
      io.out(
        `${JSON.stringify({ at: new Date(at).toISOString(), ruleset: ruleset.version, segments, campaign: { key: campaignName, in_audience: audience.result === "true", audience, ...assignment } }, null, 2)}\n`,
      );
      return 0;
    }
    printSegments(segments, io, style);
    io.out(`\n${style.bold(`campaign ${campaignName}`)} ${style.dim(campaign.ir.audience.at)}\n`);
    if (audience.result === "true") io.out(`  ${style.green("in the audience")}\n`);
    else io.out(`  ${style.red("not in the audience")}\n${failureLines(audience, "    ", style)}`);
    if (assignment.experiment) {
      io.out(
        `  experiment ${assignment.experiment}: ${assignment.holdout ? style.yellow("held out (gets nothing)") : `variant ${assignment.variant}`}\n`,
      );
    }
    for (const [index, step] of assignment.steps.entries()) {
      io.out(
        `  step ${index + 1}: ${[step.message && `message ${step.message}`, step.offer && `offer ${step.offer}`].filter(Boolean).join(", ")}\n`,
      );
    }
    return 0;
  }
  const contextOption = args.options.get("context") ?? "cancel_flow";
  if (typeof contextOption !== "string" || !OFFER_CONTEXTS.includes(contextOption as OfferContext)) {
    throw new UsageError(`--context is one of ${OFFER_CONTEXTS.join(", ")}`);
  }
  const reasonOption = args.options.get("reason");
  const offerOption = args.options.get("offer");
  const only = typeof offerOption === "string" ? [offerOption] : undefined;
  if (only && !ruleset.offers.some((o) => o.key === only[0])) {
    const suggestion = closest(
      only[0]!,
      ruleset.offers.map((o) => o.key),
    );
    throw new UsageError(
      `unknown offer \`${only[0]}\`${suggestion ? ` (did you mean \`${suggestion}\`?)` : ""}`,
    );
  }
  const decision = decideOffer(ruleset, ctx, {
    context: contextOption as OfferContext,
    reason: typeof reasonOption === "string" ? reasonOption : null,
    history,
    explain: true,
    ...(only ? { only } : {}),
  });
  // `--offer name` evaluates that offer alone; what the customer would really get from the whole
  // list is said beside it, so a match is never mistaken for the answer.
  const withAllOffers = only
    ? decideOffer(ruleset, ctx, {
        context: contextOption as OfferContext,
        reason: typeof reasonOption === "string" ? reasonOption : null,
        history,
      })
    : null;
  const dunning = dunningPosition(ruleset, ctx);
  const winback = winbackPosition(ruleset, ctx);
  const programmes = {
    dunning: dunning
      ? {
          cadence: dunning.cadence.ir.key,
          days_since_failure: dunning.daysSinceFailure,
          step_day: dunning.stepIndex === null ? null : dunning.cadence.ir.steps[dunning.stepIndex]!.day,
          final: dunning.final,
        }
      : null,
    card_reminders: cardRemindersDue(ruleset, ctx).map((r) => r.daysBefore),
    inactivity: inactivityDue(ruleset, ctx).map((due) => due.rule.ir.key),
    winback:
      winback && winback.stepIndex !== null
        ? { sequence: winback.sequence.ir.key, day: winback.schedule[winback.stepIndex]!.day }
        : null,
  };
  if (json) {
    io.out(
      `${JSON.stringify(
        {
          at: new Date(at).toISOString(),
          ruleset: ruleset.version,
          segments,
          decision,
          ...(withAllOffers
            ? {
                only: only,
                with_all_offers: {
                  offer: withAllOffers.offer?.key ?? null,
                  reason_code: withAllOffers.reasonCode,
                },
              }
            : {}),
          programmes,
        },
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  printSegments(segments, io, style);
  io.out(
    `\n${style.bold(`offers (context ${contextOption}${decision.reason ? `, reason ${decision.reason}` : ""}${only ? `; ${only[0]} alone, as if it were the only offer` : ""})`)}\n`,
  );
  for (const entry of decision.trace) {
    const mark =
      entry.outcome === "chosen"
        ? style.green("✓ chosen")
        : entry.outcome === "not_evaluated"
          ? style.dim("· not evaluated")
          : style.red(`✗ ${entry.outcome.replace(/_/g, " ")}`);
    io.out(`  ${mark} ${style.bold(entry.offer)} ${style.dim(entry.at)}\n    ${entry.detail}\n`);
    if (entry.condition) io.out(failureLines(entry.condition, "    ", style));
  }
  const result = decision.offer
    ? style.green(
        `offer ${decision.offer.key}: reward ${decision.offer.reward.key}, message ${decision.offer.message}, expires ${new Date(decision.offer.expiresAt).toISOString()}`,
      )
    : style.yellow(`no offer (${decision.reasonCode})`);
  io.out(`\n${result}\n  why: ${decision.why}\n`);
  if (withAllOffers) {
    const answer = withAllOffers.offer
      ? `offer ${withAllOffers.offer.key}`
      : `no offer (${withAllOffers.reasonCode})`;
    io.out(`  with every offer in priority order the customer gets: ${answer}\n`);
  }
  io.out(`\n${style.bold("programmes")}\n`);
  const position = programmes.dunning;
  io.out(
    `  dunning: ${
      position
        ? `${position.cadence}, day ${position.days_since_failure} since the failure, ${
            position.final ? "final action due" : `latest step day ${position.step_day}`
          }`
        : "no open failed payment"
    }\n`,
  );
  io.out(
    `  card reminders due: ${programmes.card_reminders.map((d) => `${d} days before`).join(", ") || "none"}\n`,
  );
  io.out(`  inactivity nudges due: ${programmes.inactivity.join(", ") || "none"}\n`);
  io.out(
    `  win-back: ${programmes.winback ? `${programmes.winback.sequence}, step day ${programmes.winback.day}` : "none"}\n`,
  );
  return 0;
}

function printSegments(
  segments: { key: string; member: boolean; trace: ConditionTrace }[],
  io: Io,
  style: Style,
): void {
  io.out(`${style.bold("segments")}\n`);
  for (const segment of segments) {
    if (segment.member) io.out(`  ${style.green("✓")} ${segment.key}\n`);
    else io.out(`  ${style.red("✗")} ${segment.key}\n${failureLines(segment.trace, "    ", style)}`);
  }
}

function failureLines(trace: ConditionTrace, indent: string, style: Style): string {
  return trace.failure ? describeFailure(trace.failure, indent, style) : "";
}

function describeFailure(failure: ConditionFailure, indent: string, style: Style): string {
  let out = `${indent}${style.cyan(failure.text.replace(/\s+/g, " "))} is ${failure.result}\n`;
  for (const value of failure.values) out += `${indent}  ${value.expression} = ${value.value}\n`;
  if (failure.segment?.failure) out += describeFailure(failure.segment.failure, `${indent}  `, style);
  return out;
}
