/**
 * Campaign and experiment figures, read at request time from the period's campaign runs: per
 * campaign, step and variant, who was in the audience, who was sent the step, held out or
 * frequency-capped, who converted within the campaign's attribution window, and the lift of the
 * treated over the holdout (dsl `liftAgainstHoldout`).
 *
 * Sources: `campaign_runs` with `due_at` in the period (one row per occurrence step), their `sends`
 * (kind `campaign`, key = campaign, same occurrence and step; the variant is `$.variant` of the
 * send's variables), their `campaign_exclusions` (`holdout`, `frequency_cap`), and `event_days`
 * of the campaign's `conversion.event`. A customer converts when such an event comes from the
 * message's reference time (the send's `created_at` when treated, the exclusion's `at` when held
 * out: both are the run's time) through the end of the UTC day `within` after it; on the first day
 * the day's latest event of the type must be at or after the reference time.
 *
 * Stage: read-only, called by worker/api/routes/metrics-cohorts.ts; docs/metrics.md
 * ("Campaigns and experiments").
 */
import {
  type CompiledCampaign,
  campaignAssignment,
  DAY_MS,
  type LiftResult,
  liftAgainstHoldout,
  type Ruleset,
} from "../../dsl";
import type { CsvColumn } from "./csv";
import {
  allRows,
  type CohortPeriod,
  columnsOf,
  iso,
  type ListAnswer,
  type PageRequest,
  pageOf,
  periodInstants,
} from "./lists";
import { rate } from "./period";

/**
 * The period's runs (one per campaign, occurrence and step; steps a variant spaces differently have
 * one run per delay, hence DISTINCT) and each campaign's conversion setting as a table.
 * ?1, ?2: the period's instants; ?3: JSON { campaign: { event, withinMs } }; ?4: one campaign or null.
 */
const RUNS_SQL = `runs AS (
    SELECT DISTINCT campaign, occurrence, step FROM campaign_runs
    WHERE due_at >= ?1 AND due_at < ?2 AND (?4 IS NULL OR campaign = ?4)
  ),
  conversions AS (
    SELECT c.key AS campaign, c.value ->> 'event' AS event, c.value ->> 'withinMs' AS within_ms FROM json_each(?3) c
  )`;

/** 1 when `customer` had the conversion event of `v` within its window from `reference`, else 0. */
function convertedSql(customer: string, reference: string): string {
  return `EXISTS (SELECT 1 FROM event_days d WHERE d.customer_id = ${customer}
      AND d.day >= ${reference} / ${DAY_MS} AND d.day <= (${reference} + v.within_ms) / ${DAY_MS}
      AND d.type = v.event AND (d.day > ${reference} / ${DAY_MS} OR d.latest_at >= ${reference}))`;
}

// CROSS JOIN fixes the order (SQLite never reorders it): each run seeks its own sends and exclusions
// by key, rather than the planner walking every campaign send and matching it to a run.
const SENDS_JOIN = `CROSS JOIN sends s ON s.programme_kind = 'campaign' AND s.programme_key = r.campaign
    AND s.occurrence = r.occurrence AND s.step = r.step`;
const EXCLUSIONS_JOIN = `CROSS JOIN campaign_exclusions x ON x.campaign = r.campaign AND x.occurrence = r.occurrence
    AND x.step = r.step`;

/** The bound parameters of RUNS_SQL. */
function runsParams(
  period: CohortPeriod,
  ruleset: Ruleset,
  campaign: string | null,
): (string | number | null)[] {
  const { start, end } = periodInstants(period);
  const conversions: Record<string, { event: string; withinMs: number }> = {};
  for (const [key, compiled] of ruleset.campaigns) {
    const conversion = compiled.ir.conversion;
    if (conversion) conversions[key] = { event: conversion.event, withinMs: conversion.withinMs };
  }
  return [start, end, JSON.stringify(conversions), campaign];
}

/**
 * The variant a frequency-capped customer was assigned: the tick records none for an exclusion,
 * and the assignment is a pure function of the experiment and the customer id, so it is drawn again
 * with the same function the tick uses. Null when the campaign is no longer in the rules.
 */
function cappedVariant(compiled: CompiledCampaign | undefined, customerId: string): string | null {
  return compiled ? campaignAssignment(compiled, customerId).variant : null;
}

/** One row of a step: the customers the tick gave this variant (null: none). */
export interface VariantFigures {
  variant: string | null;
  audience: number;
  sent: number;
  failed: number;
  held_out: number;
  frequency_capped: number;
  conversions: number | null;
  conversion_rate: number | null;
}

export interface StepFigures {
  step: string;
  variants: VariantFigures[];
  holdout: { n: number; conversions: number | null; conversion_rate: number | null };
  lift: ({ variant: string | null } & LiftResult)[];
}

export interface CampaignFigures {
  campaign: string;
  conversion: { event: string; within: string } | null;
  occurrences: number;
  steps: StepFigures[];
}

interface RunRow {
  campaign: string;
  occurrence: string;
  step: string;
}

interface SendCountRow {
  campaign: string;
  step: string;
  variant: string | null;
  sent: number;
  failed: number;
  conversions: number;
}

interface ExclusionCountRow {
  campaign: string;
  step: string;
  reason: "holdout" | "frequency_cap";
  /** Frequency-capped rows come one customer at a time; holdout rows are counted per step. */
  capped_customer: string | null;
  n: number;
  conversions: number;
}

/**
 * Reads the campaign figures of `period` (one campaign with `campaign`) in three statements: the
 * runs, the sends counted per step and variant, the exclusions counted per step (frequency-capped
 * customers one by one, to draw their variant).
 */
export async function readCampaigns(
  db: D1Database,
  period: CohortPeriod,
  ruleset: Ruleset,
  campaign: string | null,
): Promise<CampaignFigures[]> {
  const params = runsParams(period, ruleset, campaign);
  const runs = await allRows<RunRow>(
    db,
    `WITH ${RUNS_SQL} SELECT campaign, occurrence, step FROM runs`,
    params,
  );
  if (runs.length === 0) return [];
  const sends = await allRows<SendCountRow>(
    db,
    `WITH ${RUNS_SQL}
     SELECT r.campaign, r.step, s.variables ->> '$.variant' AS variant, count(*) AS sent,
       sum(s.status IN ('failed', 'dead')) AS failed,
       sum(CASE WHEN v.event IS NULL THEN 0 ELSE ${convertedSql("s.customer_id", "s.created_at")} END) AS conversions
     FROM runs r ${SENDS_JOIN} LEFT JOIN conversions v ON v.campaign = r.campaign
     GROUP BY r.campaign, r.step, variant`,
    params,
  );
  const exclusions = await allRows<ExclusionCountRow>(
    db,
    `WITH ${RUNS_SQL}
     SELECT r.campaign, r.step, x.reason, CASE WHEN x.reason = 'frequency_cap' THEN x.customer_id END AS capped_customer,
       count(*) AS n,
       sum(CASE WHEN v.event IS NULL THEN 0 ELSE ${convertedSql("x.customer_id", "x.at")} END) AS conversions
     FROM runs r ${EXCLUSIONS_JOIN} LEFT JOIN conversions v ON v.campaign = r.campaign
     GROUP BY r.campaign, r.step, x.reason, capped_customer`,
    params,
  );

  const campaigns = new Map<string, { occurrences: Set<string>; steps: Map<string, StepCounts> }>();
  const stepOf = (key: string, step: string): StepCounts => {
    let entry = campaigns.get(key);
    if (!entry) {
      entry = { occurrences: new Set(), steps: new Map() };
      campaigns.set(key, entry);
    }
    let counts = entry.steps.get(step);
    if (!counts) {
      counts = { variants: new Map(), holdout: { n: 0, conversions: 0 } };
      entry.steps.set(step, counts);
    }
    return counts;
  };
  for (const run of runs) {
    stepOf(run.campaign, run.step);
    campaigns.get(run.campaign)!.occurrences.add(run.occurrence);
  }
  for (const row of sends) {
    const variant = variantRow(stepOf(row.campaign, row.step), row.variant);
    variant.sent += row.sent;
    variant.failed += row.failed;
    variant.conversions += row.conversions;
  }
  for (const row of exclusions) {
    const counts = stepOf(row.campaign, row.step);
    if (row.reason === "holdout") {
      // The tick holds a customer out before it draws a variant: held-out customers have none.
      variantRow(counts, null).held_out += row.n;
      counts.holdout.n += row.n;
      counts.holdout.conversions += row.conversions;
    } else {
      const compiled = ruleset.campaigns.get(row.campaign);
      variantRow(counts, cappedVariant(compiled, row.capped_customer ?? "")).frequency_capped += row.n;
    }
  }

  return [...campaigns]
    .sort(([a], [b]) => compareText(a, b))
    .map(([key, entry]): CampaignFigures => {
      const compiled = ruleset.campaigns.get(key);
      const conversion = compiled?.ir.conversion ?? null;
      return {
        campaign: key,
        conversion: conversion === null ? null : { event: conversion.event, within: conversion.within },
        occurrences: entry.occurrences.size,
        steps: [...entry.steps]
          .sort(([a], [b]) => Number(a) - Number(b) || compareText(a, b))
          .map(([step, counts]) => stepFigures(step, counts, compiled, conversion !== null)),
      };
    });
}

interface VariantCounts {
  sent: number;
  failed: number;
  conversions: number;
  held_out: number;
  frequency_capped: number;
}

interface StepCounts {
  variants: Map<string | null, VariantCounts>;
  holdout: { n: number; conversions: number };
}

function variantRow(counts: StepCounts, variant: string | null): VariantCounts {
  let row = counts.variants.get(variant);
  if (!row) {
    row = { sent: 0, failed: 0, conversions: 0, held_out: 0, frequency_capped: 0 };
    counts.variants.set(variant, row);
  }
  return row;
}

function stepFigures(
  step: string,
  counts: StepCounts,
  compiled: CompiledCampaign | undefined,
  measured: boolean,
): StepFigures {
  // Variants in the order the rules list them, any others (since removed) by name, null last.
  const order = compiled?.ir.experiment?.variants.map((variant) => variant.key) ?? [];
  const rank = (variant: string | null) => {
    if (variant === null) return Number.MAX_SAFE_INTEGER;
    const index = order.indexOf(variant);
    return index === -1 ? order.length : index;
  };
  const rows = [...counts.variants].sort(([a], [b]) => rank(a) - rank(b) || compareText(a ?? "", b ?? ""));
  const variants = rows.map(
    ([variant, row]): VariantFigures => ({
      variant,
      audience: row.sent + row.held_out + row.frequency_capped,
      sent: row.sent,
      failed: row.failed,
      held_out: row.held_out,
      frequency_capped: row.frequency_capped,
      conversions: measured ? row.conversions : null,
      conversion_rate: measured ? rate(row.conversions, row.sent) : null,
    }),
  );
  const holdout = counts.holdout;
  const lift: StepFigures["lift"] = [];
  if (measured) {
    const keyed = rows.filter(([variant, row]) => variant !== null && row.sent > 0);
    for (const [variant, row] of keyed) {
      lift.push({
        variant,
        ...liftAgainstHoldout({ treated: { conversions: row.conversions, n: row.sent }, holdout }),
      });
    }
    // Every treated customer together, whatever their variant: the campaign's own lift.
    const treated = rows.reduce(
      (total, [, row]) => ({ conversions: total.conversions + row.conversions, n: total.n + row.sent }),
      { conversions: 0, n: 0 },
    );
    lift.push({ variant: null, ...liftAgainstHoldout({ treated, holdout }) });
  }
  return {
    step,
    variants,
    holdout: {
      n: holdout.n,
      conversions: measured ? holdout.conversions : null,
      conversion_rate: measured ? rate(holdout.conversions, holdout.n) : null,
    },
    lift,
  };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const CAMPAIGN_GROUPS = ["treated", "holdout", "frequency_capped"] as const;
export type CampaignGroup = (typeof CAMPAIGN_GROUPS)[number];

interface MemberRow {
  campaign: string;
  occurrence: string;
  step: string;
  customer_id: string;
  grp: CampaignGroup;
  variant: string | null;
  send_status: string | null;
  at: number;
  converted: number | null;
}

/** One audience member of a campaign step in `GET /v1/metrics/campaigns/customers`. */
export interface CampaignCustomerItem {
  campaign: string;
  occurrence: string;
  step: string;
  customer_id: string;
  group: CampaignGroup;
  variant: string | null;
  send_status: string | null;
  at: string;
  converted: boolean | null;
}

const CAMPAIGN_CUSTOMER_COLUMNS: readonly CsvColumn<CampaignCustomerItem>[] = columnsOf<CampaignCustomerItem>(
  ["campaign", "occurrence", "step", "customer_id", "group", "variant", "send_status", "at", "converted"],
);

/**
 * The audience members of the period's campaign runs: sent (`treated`), held out, frequency-capped,
 * with whether each converted (null when the campaign measures no conversion), ordered by campaign,
 * occurrence, step and customer.
 */
export async function listCampaignCustomers(
  db: D1Database,
  request: PageRequest & {
    period: CohortPeriod;
    ruleset: Ruleset;
    campaign: string | null;
    step: string | null;
    group: CampaignGroup | null;
    converted: boolean | null;
  },
): Promise<ListAnswer<CampaignCustomerItem>> {
  const params = runsParams(request.period, request.ruleset, request.campaign);
  const conditions: string[] = [];
  if (request.step !== null) {
    params.push(request.step);
    conditions.push(`m.step = ?${params.length}`);
  }
  if (request.group !== null) {
    params.push(request.group);
    conditions.push(`m.grp = ?${params.length}`);
  }
  if (request.converted !== null) conditions.push(`converted = ${request.converted ? 1 : 0}`);
  if (request.after !== null) {
    params.push(...request.after);
    const n = params.length;
    conditions.push(
      `(m.campaign, m.occurrence, m.step, m.customer_id) > (?${n - 3}, ?${n - 2}, ?${n - 1}, ?${n})`,
    );
  }
  params.push(request.limit + 1);
  const rows = await allRows<MemberRow>(
    db,
    `WITH ${RUNS_SQL},
     members AS (
       SELECT r.campaign, r.occurrence, r.step, s.customer_id, 'treated' AS grp,
         s.variables ->> '$.variant' AS variant, s.status AS send_status, s.created_at AS at
       FROM runs r ${SENDS_JOIN}
       UNION ALL
       SELECT r.campaign, r.occurrence, r.step, x.customer_id,
         CASE x.reason WHEN 'holdout' THEN 'holdout' ELSE 'frequency_capped' END, NULL, NULL, x.at
       FROM runs r ${EXCLUSIONS_JOIN}
     )
     SELECT m.*, CASE WHEN v.event IS NULL THEN NULL ELSE ${convertedSql("m.customer_id", "m.at")} END AS converted
     FROM members m LEFT JOIN conversions v ON v.campaign = m.campaign
     ${conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`}
     ORDER BY m.campaign, m.occurrence, m.step, m.customer_id LIMIT ?${params.length}`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.campaign, row.occurrence, row.step, row.customer_id],
    (row): CampaignCustomerItem => ({
      campaign: row.campaign,
      occurrence: row.occurrence,
      step: row.step,
      customer_id: row.customer_id,
      group: row.grp,
      variant:
        row.grp === "frequency_capped"
          ? cappedVariant(request.ruleset.campaigns.get(row.campaign), row.customer_id)
          : row.variant,
      send_status: row.send_status,
      at: iso(row.at)!,
      converted: row.converted === null ? null : row.converted === 1,
    }),
  );
  return { ...page, columns: CAMPAIGN_CUSTOMER_COLUMNS };
}
