/**
 * Checking the scheduled programmes: steps, inactivity rules, dunning cadences, card-expiry
 * reminders, win-back sequences and campaigns (schedule, zone, SQL audience, quiet hours, caps).
 *
 * Stage: part of check, after offers and messages are known.
 */

import { LIMITS } from "../limits";
import { parseCron } from "../time/cron";
import { parseQuietHours } from "../time/timezone";
import { type CheckContext, contextOf, MAX_DAY, type References } from "./check-context";
import { readExperiment } from "./check-offers";
import type { YamlMap, YamlNode, YamlScalar } from "./load";
import { closest, type Reader } from "./reader";
import {
  type CampaignIR,
  type CampaignVariantIR,
  type DunningAction,
  type DunningIR,
  type InactivityIR,
  OFFER_CONTEXTS,
  type OfferContext,
  type RulesetIR,
  type StepIR,
  type WinbackIR,
} from "./ruleset";

/** A step: message and/or offer, day or delay. `dayKey` says which timing field it uses. */
export function readStep(
  c: CheckContext,
  node: YamlNode,
  reader: Reader,
  refs: References,
  timing: "day" | "after" | "none",
  by: string,
  extra: readonly string[] = [],
): (StepIR & { fields: Map<string, YamlNode> }) | undefined {
  const map = reader.map(node, "a step");
  if (!map) return undefined;
  const allowed = [...(timing === "none" ? [] : [timing]), "message", "offer", "fallback_message", ...extra];
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
    step.message = c.useMessage(
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
    step.fallbackMessage = c.useMessage(
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

export function readInactivity(c: CheckContext, refs: References): InactivityIR[] {
  const rules: InactivityIR[] = [];
  for (const entry of c.listEntries("inactivity")) {
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
          const key = c.reference(item.node, reader, refs.plans, "plan");
          if (key) plans.push(key);
          else ok = false;
        }
      }
    }
    const segmentNode = fields.get("segment");
    const segment = segmentNode
      ? c.reference(segmentNode, reader, new Set(c.segmentInfo.keys()), "segment")
      : null;
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const afterNode = fields.get("after");
    const afterMs = afterNode ? reader.duration(afterNode, "`after`", LIMITS.maxDurationMs) : undefined;
    const stepFields = new Map(
      [...fields].filter(([name]) => name === "message" || name === "offer" || name === "fallback_message"),
    );
    const stepMap: YamlMap = {
      ...map,
      pairs: map.pairs.filter((p) => stepFields.has(String(p.key.value))),
    };
    const step = readStep(c, stepMap, reader, refs, "none", what);
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

export function readDunning(c: CheckContext, refs: References): DunningIR[] {
  const cadences: DunningIR[] = [];
  for (const entry of c.listEntries("dunning")) {
    const { reader } = entry;
    const what = `dunning cadence \`${entry.key}\``;
    const fields = reader.fields(
      entry.value as YamlMap,
      what,
      ["key", "description", "when", "steps", "final"],
      ["steps", "final"],
    );
    const whenNode = fields.get("when");
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const steps: DunningIR["steps"] = [];
    let ok = when !== undefined;
    const stepsNode = fields.get("steps");
    const items = stepsNode ? reader.seq(stepsNode, "`steps`") : undefined;
    if (!items) ok = false;
    let lastDay = -1;
    for (const item of items ?? []) {
      const step = readStep(c, item, reader, refs, "day", what);
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
        ? c.useMessage(messageNode, reader, refs.messageKeys, "dunning", `${what} final action`)
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

export function readCardExpiry(c: CheckContext, refs: References): RulesetIR["cardExpiry"] {
  const found = c.single("card_expiry");
  if (!found) return null;
  const { node, reader } = found;
  const map = reader.map(node, "`card_expiry`");
  if (!map) return null;
  const fields = reader.fields(map, "`card_expiry`", ["days_before", "message"], ["days_before", "message"]);
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
    ? c.useMessage(messageNode, reader, refs.messageKeys, "card_expiry", "card-expiry reminders")
    : null;
  if (message === null || days.length === 0) return null;
  return { daysBefore: days.sort((a, b) => b - a), message };
}

export function readWinback(c: CheckContext, refs: References): WinbackIR[] {
  const sequences: WinbackIR[] = [];
  const claimed = new Map<string, string>();
  for (const entry of c.listEntries("winback")) {
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
      const key = c.reference(item.node, reader, refs.reasonKeys, "reason");
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
    const when = whenNode ? c.expression(whenNode, reader) : null;
    const steps: StepIR[] = [];
    const stepsNode = fields.get("steps");
    let lastDay = -1;
    for (const item of (stepsNode ? reader.seq(stepsNode, "`steps`") : undefined) ?? []) {
      const step = readStep(c, item, reader, refs, "day", what);
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

export function readCampaignSteps(
  c: CheckContext,
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
    const step = readStep(c, item, reader, refs, "after", by);
    if (!step) ok = false;
    else {
      const { fields: _f, ...plain } = step;
      steps.push(plain);
    }
  }
  return ok ? steps : undefined;
}

export function readCampaigns(c: CheckContext, refs: References, capKeys: Set<string>): CampaignIR[] {
  const campaigns: CampaignIR[] = [];
  for (const entry of c.limit(c.mapEntries("campaigns"), LIMITS.maxCampaigns, "campaigns")) {
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
        c.exprDiagnostics(scheduleNode as YamlScalar, reader, cron.diagnostics);
        ok = false;
      }
    }
    const zoneNode = fields.get("timezone");
    const timezone = zoneNode ? c.timeZone(zoneNode, reader) : undefined;
    const audienceNode = fields.get("audience");
    const audience = audienceNode ? c.expression(audienceNode, reader) : undefined;
    if (audience?.sqlTranslatable && !c.translate(audience, audienceNode!, reader, () => {})) ok = false;
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
    const frequencyCap = capNode ? c.reference(capNode, reader, capKeys, "frequency_cap") : null;
    const quietNode = fields.get("quiet_hours");
    let quietHours: string | null = null;
    if (quietNode) {
      const text = reader.string(quietNode, "`quiet_hours`");
      if (text !== undefined) {
        const parsed = parseQuietHours(text);
        if (parsed.diagnostics.length > 0) {
          c.exprDiagnostics(quietNode as YamlScalar, reader, parsed.diagnostics);
          ok = false;
        } else quietHours = text;
      } else ok = false;
    }
    const stepsNode = fields.get("steps");
    const steps = stepsNode ? readCampaignSteps(c, stepsNode, reader, refs, what) : undefined;
    const experimentNode = fields.get("experiment");
    const experiment = experimentNode
      ? readExperiment<CampaignVariantIR>(
          c,
          experimentNode,
          reader,
          `campaign_${entry.key}`,
          (variant, vfields) => {
            const vsteps = vfields.get("steps");
            const own = vsteps
              ? readCampaignSteps(c, vsteps, reader, refs, `${what} variant \`${variant.key}\``)
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
