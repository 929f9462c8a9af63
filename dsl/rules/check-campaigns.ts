/**
 * Checking the `campaigns` section: scheduled campaigns with a cron schedule in a zone, a SQL
 * audience, quiet hours, frequency caps, experiments and holdouts, their steps, and the conversion
 * their metrics count.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import { CUSTOM_EVENT_TYPE } from "../expr/events";
import { LIMITS } from "../limits";
import { closest } from "../suggest";
import { parseCron } from "../time/cron-parse";
import { parseQuietHours } from "../time/quiet-hours";
import type { CheckContext, References } from "./check-context";
import { readExperiment } from "./check-offers";
import { readStep } from "./check-steps";
import type { YamlNode, YamlScalar } from "./load";
import type { Reader } from "./reader";
import {
  type CampaignIR,
  type CampaignVariantIR,
  type ConversionIR,
  OFFER_CONTEXTS,
  type OfferContext,
  type StepIR,
} from "./ruleset";

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
        "conversion",
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
    const conversionNode = fields.get("conversion");
    const conversion = conversionNode ? readConversion(c, conversionNode, reader, what) : null;
    if (
      !ok ||
      conversion === undefined ||
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
      conversion,
    });
  }
  return campaigns;
}

/**
 * `conversion: { event, within }`: the event that counts as the campaign working (a built-in type
 * or an `x.` custom one) and the attribution window after a send, at most a year.
 */
function readConversion(
  c: CheckContext,
  node: YamlNode,
  reader: Reader,
  what: string,
): ConversionIR | undefined {
  const where = `the conversion of ${what}`;
  const map = reader.map(node, where);
  if (!map) return undefined;
  const fields = reader.fields(map, where, ["event", "within"], ["event", "within"]);
  const eventNode = fields.get("event");
  const event = eventNode ? conversionEvent(c, eventNode, reader) : undefined;
  const withinNode = fields.get("within");
  const withinMs = withinNode
    ? reader.duration(withinNode, "`within`", LIMITS.maxConversionWindowMs)
    : undefined;
  if (event === undefined || withinMs === undefined) return undefined;
  return { event, within: String((withinNode as YamlScalar).value), withinMs };
}

function conversionEvent(c: CheckContext, node: YamlNode, reader: Reader): string | undefined {
  const type = reader.string(node, "a conversion event");
  if (type === undefined) return undefined;
  const known = c.scope.eventTypes;
  if (known.has(type) || CUSTOM_EVENT_TYPE.test(type)) return type;
  const suggestion = closest(type, known.keys());
  return reader.fail(
    node,
    "unknown_event_type",
    `unknown event type \`${type}\``,
    suggestion ? `did you mean \`${suggestion}\`?` : "custom events are named x.<name>",
  );
}
