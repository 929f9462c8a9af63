/**
 * Checking the `campaigns` section: scheduled campaigns with a cron schedule in a zone, a SQL
 * audience, quiet hours, frequency caps, experiments and holdouts, and their steps.
 *
 * Stage: part of check (a pass in dsl/rules/check.ts), after offers and messages are known.
 */

import { LIMITS } from "../limits";
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
