/**
 * Campaign and experiment figures, read at request time from the period's campaign runs: per
 * campaign, step and variant, who was in the audience, who was sent the step, held out,
 * frequency-capped or given no offer, who converted within the campaign's attribution window, and
 * the lift of the treated over the holdout (dsl `liftAgainstHoldout`).
 *
 * The treated group is everyone assigned to a variant and not held out, whether the tick then sent
 * the step, capped it or found no offer for it (intention to treat): the tick draws the holdout
 * before it knows either, so only the whole assigned group is comparable with the holdout.
 *
 * Sources: `campaign_runs` with `due_at` in the period (one row per occurrence step), their `sends`
 * (kind `campaign`, key = campaign, same occurrence and step; the variant is `$.variant` of the
 * send's variables), their `campaign_exclusions` (`holdout`, `frequency_cap`, `no_offer`), and
 * `event_days` of the campaign's `conversion.event`. A customer converts when such an event comes
 * from the message's reference time (the send's `created_at` when sent, the exclusion's `at`
 * otherwise: both are the run's time) through the end of the UTC day `within` after it; on the
 * first day the day's latest event of the type must be at or after the reference time.
 *
 * On a sharded deployment each shard holds its part of every run (its own `campaign_runs` row) with the
 * sends and exclusions of its customers: every shard's counts are read and added up, occurrences
 * counted once, and the rates and lifts computed from the sums.
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
import type { ExclusionReason } from "../db/schema/campaign-exclusions";
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
 * The variant a frequency-capped customer was assigned: the tick records the cap class, not the
 * variant, and the assignment is a pure function of the experiment and the customer id, so it is
 * drawn again with the same function the tick uses. Null when the campaign is no longer in the
 * rules. (A `no_offer` exclusion records its variant in `detail`.)
 */
function cappedVariant(compiled: CompiledCampaign | undefined, customerId: string): string | null {
  return compiled ? campaignAssignment(compiled, customerId).variant : null;
}

/** One row of a step: the customers the tick gave this variant (null: none). */
export interface VariantFigures {
  variant: string | null;
  audience: number;
  /** Assigned and not held out: sent + frequency_capped + no_offer, the lift's treated group. */
  assigned: number;
  sent: number;
  failed: number;
  held_out: number;
  frequency_capped: number;
  no_offer: number;
  /** Conversions of the assigned customers (intention to treat), not of the sent ones alone. */
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
  reason: ExclusionReason;
  /** Frequency-capped rows come one customer at a time; the others are counted per step. */
  capped_customer: string | null;
  /** The variant a no_offer customer was given (its `detail`). */
  no_offer_variant: string | null;
  n: number;
  conversions: number;
}

/**
 * Reads the campaign figures of `period` (one campaign with `campaign`) in three statements: the
 * runs, the sends counted per step and variant, the exclusions counted per step and reason
 * (frequency-capped customers one by one, to draw their variant; no_offer ones per variant).
 */
export async function readCampaigns(
  db: D1Database,
  period: CohortPeriod,
  ruleset: Ruleset,
  campaign: string | null,
): Promise<CampaignFigures[]> {
  return readCampaignsOfShards([db], period, ruleset, campaign);
}

/** The campaign figures over every shard (one database: `[db]`); see readCampaigns. */
export async function readCampaignsOfShards(
  dbs: readonly D1Database[],
  period: CohortPeriod,
  ruleset: Ruleset,
  campaign: string | null,
): Promise<CampaignFigures[]> {
  const params = runsParams(period, ruleset, campaign);
  const parts = await Promise.all(dbs.map((db) => readCampaignRows(db, params)));
  return campaignFigures(
    ruleset,
    parts.flatMap((part) => part.runs),
    parts.flatMap((part) => part.sends),
    parts.flatMap((part) => part.exclusions),
  );
}

/** One database's runs of the period and their sends and exclusions counted (nothing without runs). */
async function readCampaignRows(
  db: D1Database,
  params: (string | number | null)[],
): Promise<{ runs: RunRow[]; sends: SendCountRow[]; exclusions: ExclusionCountRow[] }> {
  const runs = await allRows<RunRow>(
    db,
    `WITH ${RUNS_SQL} SELECT campaign, occurrence, step FROM runs`,
    params,
  );
  if (runs.length === 0) return { runs, sends: [], exclusions: [] };
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
       CASE WHEN x.reason = 'no_offer' THEN x.detail END AS no_offer_variant, count(*) AS n,
       sum(CASE WHEN v.event IS NULL THEN 0 ELSE ${convertedSql("x.customer_id", "x.at")} END) AS conversions
     FROM runs r ${EXCLUSIONS_JOIN} LEFT JOIN conversions v ON v.campaign = r.campaign
     GROUP BY r.campaign, r.step, x.reason, capped_customer, no_offer_variant`,
    params,
  );
  return { runs, sends, exclusions };
}

/** The figures of every run read (a run's occurrence counted once, however many shards hold a part). */
function campaignFigures(
  ruleset: Ruleset,
  runs: readonly RunRow[],
  sends: readonly SendCountRow[],
  exclusions: readonly ExclusionCountRow[],
): CampaignFigures[] {
  if (runs.length === 0) return [];

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
    } else if (row.reason === "frequency_cap") {
      const compiled = ruleset.campaigns.get(row.campaign);
      const variant = variantRow(counts, cappedVariant(compiled, row.capped_customer ?? ""));
      variant.frequency_capped += row.n;
      variant.conversions += row.conversions;
    } else {
      const variant = variantRow(counts, row.no_offer_variant);
      variant.no_offer += row.n;
      variant.conversions += row.conversions;
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
        steps: sharedHoldout(
          [...entry.steps]
            .sort(([a], [b]) => Number(a) - Number(b) || compareText(a, b))
            .map(([step, counts]) => stepFigures(step, counts, compiled, conversion !== null)),
        ),
      };
    });
}

/**
 * The tick holds customers out once, at a campaign's first step, and sends them none of the later
 * steps: a later step has no holdout of its own. Its lift is not "the holdout is empty" but the first
 * step's, whose conversion window already covers what the later steps did to the same customers.
 */
const SHARED_HOLDOUT_WHY =
  "the holdout is drawn once, at the campaign's first step: that step's lift is the campaign's, later steps included";

function sharedHoldout(steps: StepFigures[]): StepFigures[] {
  const first = steps[0];
  if (!first || first.holdout.n === 0) return steps;
  return steps.map((step, index) =>
    index === 0 || step.holdout.n > 0
      ? step
      : { ...step, lift: step.lift.map((entry) => ({ ...entry, why: SHARED_HOLDOUT_WHY })) },
  );
}

interface VariantCounts {
  sent: number;
  failed: number;
  held_out: number;
  frequency_capped: number;
  no_offer: number;
  /** Of the sent, frequency-capped and no_offer customers: the held-out ones count in `holdout`. */
  conversions: number;
}

interface StepCounts {
  variants: Map<string | null, VariantCounts>;
  holdout: { n: number; conversions: number };
}

function variantRow(counts: StepCounts, variant: string | null): VariantCounts {
  let row = counts.variants.get(variant);
  if (!row) {
    row = { sent: 0, failed: 0, held_out: 0, frequency_capped: 0, no_offer: 0, conversions: 0 };
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
  // Intention to treat: the holdout is drawn before the frequency cap and the offer are known, so
  // the group comparable with it is everyone assigned, not only those the step reached.
  const assignedOf = (row: VariantCounts) => row.sent + row.frequency_capped + row.no_offer;
  const variants = rows.map(
    ([variant, row]): VariantFigures => ({
      variant,
      audience: assignedOf(row) + row.held_out,
      assigned: assignedOf(row),
      sent: row.sent,
      failed: row.failed,
      held_out: row.held_out,
      frequency_capped: row.frequency_capped,
      no_offer: row.no_offer,
      conversions: measured ? row.conversions : null,
      conversion_rate: measured ? rate(row.conversions, assignedOf(row)) : null,
    }),
  );
  const holdout = counts.holdout;
  const lift: StepFigures["lift"] = [];
  if (measured) {
    const keyed = rows.filter(([variant, row]) => variant !== null && assignedOf(row) > 0);
    for (const [variant, row] of keyed) {
      lift.push({
        variant,
        ...liftAgainstHoldout({ treated: { conversions: row.conversions, n: assignedOf(row) }, holdout }),
      });
    }
    // Every assigned customer together, whatever their variant: the campaign's own lift.
    const treated = rows.reduce(
      (total, [, row]) => ({
        conversions: total.conversions + row.conversions,
        n: total.n + assignedOf(row),
      }),
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

export const CAMPAIGN_GROUPS = ["treated", "holdout", "frequency_capped", "no_offer"] as const;
export type CampaignGroup = (typeof CAMPAIGN_GROUPS)[number];

/** The exclusion reason behind each group but `treated` (the sent customers, read from `sends`). */
const GROUP_REASONS: Readonly<Record<Exclude<CampaignGroup, "treated">, ExclusionReason>> = Object.freeze({
  holdout: "holdout",
  frequency_capped: "frequency_cap",
  no_offer: "no_offer",
});

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
 * D1 allows five terms in a compound SELECT: a statement of the list merges the branches (a run's
 * sends, a run's exclusions) of as many runs as fit.
 */
const COMPOUND_TERMS = 5;

/**
 * The audience members of the period's campaign runs: sent (`treated`), held out, frequency-capped,
 * given no offer, with whether each converted (null when the campaign measures no conversion),
 * ordered by campaign, occurrence, step and customer.
 *
 * A page reads the period's runs from the cursor's on, then their members a few runs per statement
 * until the page is full: each run's sends and exclusions are a branch that seeks its
 * (…, customer_id) index from the cursor, so it yields rows in key order; the compound's ORDER BY
 * then merges the branches instead of sorting them and stops reading at the LIMIT, and `converted`
 * is looked up for the rows kept only (with `?converted=`, while reading, to skip the others).
 * Rows read follow the page and the period's runs, not the audience.
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
  const [start, end, conversions] = runsParams(request.period, request.ruleset, request.campaign);
  const after = request.after as readonly [string, string, string, string] | null;
  const measured = JSON.parse(String(conversions)) as Record<string, unknown>;
  const runs = (
    await allRows<RunRow>(
      db,
      `SELECT DISTINCT campaign, occurrence, step FROM campaign_runs
       WHERE due_at >= ?1 AND due_at < ?2 AND (?3 IS NULL OR campaign = ?3) AND (?4 IS NULL OR step = ?4)
         AND (?5 IS NULL OR (campaign, occurrence, step) >= (?5, ?6, ?7))
       ORDER BY campaign, occurrence, step`,
      [
        start!,
        end!,
        request.campaign,
        request.step,
        after?.[0] ?? null,
        after?.[1] ?? null,
        after?.[2] ?? null,
      ],
    )
  ).filter((run) => request.converted === null || Object.hasOwn(measured, run.campaign));
  const sources: MemberSource[] = [];
  if (request.group === null || request.group === "treated") sources.push(SENT_MEMBERS);
  if (request.group !== "treated") sources.push(EXCLUDED_MEMBERS);
  const runsPerStatement = Math.floor(COMPOUND_TERMS / sources.length);
  const filters: MemberFilters = {
    after,
    reason: request.group === null || request.group === "treated" ? null : GROUP_REASONS[request.group],
    converted: request.converted,
    conversions: String(conversions),
  };
  const rows: MemberRow[] = [];
  for (let first = 0; first < runs.length && rows.length <= request.limit; first += runsPerStatement) {
    const chunk = runs.slice(first, first + runsPerStatement);
    rows.push(...(await readMembers(db, chunk, sources, filters, request.limit + 1 - rows.length)));
  }
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

interface MemberFilters {
  /** The cursor's position, or null on the first page. */
  after: readonly [string, string, string, string] | null;
  /** The exclusion reason of the group asked for (null: any). */
  reason: ExclusionReason | null;
  converted: boolean | null;
  /** JSON { campaign: { event, withinMs } } (runsParams). */
  conversions: string;
}

/**
 * The first `limit` members of `runs` (in key order, at or after the cursor) in one statement: a
 * UNION ALL of one branch per run and source, each a seek on its (…, customer_id) index.
 */
async function readMembers(
  db: D1Database,
  runs: readonly RunRow[],
  sources: readonly MemberSource[],
  filters: MemberFilters,
  limit: number,
): Promise<MemberRow[]> {
  const { after } = filters;
  const params: (string | number | null)[] = [filters.conversions];
  const bind = (value: string | number) => {
    params.push(value);
    return `?${params.length}`;
  };
  const reason = filters.reason === null ? null : bind(filters.reason);
  const converted = filters.converted === null ? null : bind(filters.converted ? 1 : 0);
  const branches: string[] = [];
  for (const run of runs) {
    const [campaign, occurrence, step] = [bind(run.campaign), bind(run.occurrence), bind(run.step)];
    const atCursor =
      after !== null && after[0] === run.campaign && after[1] === run.occurrence && after[2] === run.step;
    const from = atCursor ? bind(after[3]) : null;
    for (const source of sources) {
      const [keyCampaign, keyOccurrence, keyStep, keyCustomer] = source.keys;
      const conditions = [
        ...source.conditions,
        `${keyCampaign} = ${campaign}`,
        `${keyOccurrence} = ${occurrence}`,
        `${keyStep} = ${step}`,
        ...(from === null ? [] : [`${keyCustomer} > ${from}`]),
        ...(source === EXCLUDED_MEMBERS && reason !== null ? [`x.reason = ${reason}`] : []),
        ...(converted === null
          ? []
          : [`${convertedOf(keyCampaign, keyCustomer, source.reference)} = ${converted}`]),
      ];
      branches.push(`SELECT ${source.columns} FROM ${source.table}
       WHERE ${conditions.join(" AND ")}`);
    }
  }
  // The LIMIT applies to the merge; converted is read for the rows it keeps only.
  return allRows<MemberRow>(
    db,
    `WITH conversions AS (
       SELECT c.key AS campaign, c.value ->> 'event' AS event, c.value ->> 'withinMs' AS within_ms FROM json_each(?1) c
     )
     SELECT m.*, ${convertedOf("m.campaign", "m.customer_id", "m.at")} AS converted
     FROM (${branches.join("\n       UNION ALL ")}
       ORDER BY campaign, occurrence, step, customer_id LIMIT ${bind(limit)}) m
     ORDER BY m.campaign, m.occurrence, m.step, m.customer_id`,
    params,
  );
}

/** Where a list's members come from: the columns of a member, its key, its reference time. */
interface MemberSource {
  table: string;
  columns: string;
  keys: readonly [campaign: string, occurrence: string, step: string, customer: string];
  /** The instant conversions are counted from. */
  reference: string;
  conditions: readonly string[];
}

/** The sent members: one `sends` row each, the variant from its variables. */
const SENT_MEMBERS: MemberSource = {
  table: "sends s",
  columns: `s.programme_key AS campaign, s.occurrence, s.step, s.customer_id, 'treated' AS grp,
         s.variables ->> '$.variant' AS variant, s.status AS send_status, s.created_at AS at`,
  keys: ["s.programme_key", "s.occurrence", "s.step", "s.customer_id"],
  reference: "s.created_at",
  conditions: ["s.programme_kind = 'campaign'"],
};

/** The members sent nothing: one `campaign_exclusions` row each (a no_offer one names its variant). */
const EXCLUDED_MEMBERS: MemberSource = {
  table: "campaign_exclusions x",
  columns: `x.campaign, x.occurrence, x.step, x.customer_id,
         CASE x.reason WHEN 'frequency_cap' THEN 'frequency_capped' ELSE x.reason END AS grp,
         CASE WHEN x.reason = 'no_offer' THEN x.detail END AS variant, NULL AS send_status, x.at AS at`,
  keys: ["x.campaign", "x.occurrence", "x.step", "x.customer_id"],
  reference: "x.at",
  conditions: [],
};

/** 1 or 0 when `campaign` measures a conversion and `customer` had it from `reference` on, else null. */
function convertedOf(campaign: string, customer: string, reference: string): string {
  return `(SELECT ${convertedSql(customer, reference)} FROM conversions v WHERE v.campaign = ${campaign})`;
}
