/**
 * What `POST /v1/admin/plan` answers for one page of customers, and how the pages of one plan add up.
 * The Worker (worker/plan/) evaluates a page of customers under two rulesets, the base (what runs
 * now) and the proposed one, and answers counts that add across pages; `rebound plan`
 * (dsl/cli/plan.ts) asks page after page, following `next_cursor`, and merges them with
 * `mergePlanPages`. Every count is a sum over customers, so a merged plan is the same whatever the
 * page size.
 *
 * Stage: the wire format shared by the Worker and the CLI; imports nothing.
 */

/** Example customer ids kept per row (the first ones by id). */
export const PLAN_EXAMPLES = 5;

/** The sends and final actions one programme (a dunning cadence, a win-back sequence…) makes. */
export interface PlanProgrammeCounts {
  /** Messages stored for sending within the horizon (each step once per customer). */
  sends: number;
  /** Dunning cases that reach their final day within the horizon (0 for other programmes). */
  final_actions: number;
  /** Of those, the ones whose final action cancels the subscription. */
  cancels: number;
  /** Per UTC day (YYYY-MM-DD) of the send or final action. */
  by_day: Record<string, { sends: number; final_actions: number }>;
  /** Per step (`day-3`, `final`, `7d-before`, `0`…): how many customers get it. */
  steps: Record<string, number>;
  /** Customers affected (any send or final action), first ids. */
  customers: number;
  examples: string[];
}

export type PlanProgrammeKind = "dunning" | "winback" | "inactivity" | "card_expiry";

export interface PlanProgrammeRow {
  programme: PlanProgrammeKind;
  /** The cadence, sequence or rule key (`card_expiry` for the card reminders). */
  key: string;
  /** Null when the programme is not in that ruleset. */
  before: PlanProgrammeCounts | null;
  after: PlanProgrammeCounts | null;
}

/** What one campaign stage occurrence would do, as the tick counts it (worker/tick/claims.ts RunStats). */
export interface PlanCampaignStats {
  /** Customers in the audience when the occurrence is due (not already sent this step). */
  audience: number;
  sent: number;
  holdout: number;
  frequency_capped: number;
  /** Sent, but after the end of the customer's quiet hours. */
  deferred: number;
  /** The step carries an offer, none was available, and there is no fallback message. */
  no_offer: number;
}

/**
 * One stage occurrence: a campaign, an occurrence, a step and when it is due. A step whose delay
 * (`after:`) differs between the rulesets, or between experiment variants, is one row per due time.
 */
export interface PlanCampaignRow {
  campaign: string;
  /** The occurrence (ISO 8601), as `campaign_runs.occurrence` names it. */
  occurrence: string;
  step: string;
  /** When the stage is due (occurrence + the step's delay), ISO 8601. */
  due_at: string;
  /** Null when the stage is not in that ruleset. */
  before: PlanCampaignStats | null;
  after: PlanCampaignStats | null;
}

export interface PlanSegmentRow {
  segment: string;
  /** Members under the base rules (null: the segment is not in them). */
  before: number | null;
  after: number | null;
  /** Members under the proposed rules who were not under the base rules, and the reverse. */
  entering: number;
  leaving: number;
  entering_examples: string[];
  leaving_examples: string[];
}

export interface PlanOfferMove {
  /** The offer the base rules give a customer asking now in this context (null: none). */
  from: string | null;
  to: string | null;
  customers: number;
  examples: string[];
}

export interface PlanOfferRow {
  context: string;
  /**
   * The reason the customer picks in the cancel flow (one row per declared reason, and one with
   * null for an ask without a reason); null in the other contexts.
   */
  reason: string | null;
  /** Only the moves (from ≠ to), largest first after merging. */
  moves: PlanOfferMove[];
  /** Customers whose offer stays the same (including none → none). */
  unchanged: number;
  /**
   * The reward cost implied if every customer asking took the offer, per currency, in minor units
   * (dsl/runtime/messages.ts rewardCost). Rewards whose cost cannot be known are counted in `unpriced`.
   */
  cost_before: Record<string, number>;
  cost_after: Record<string, number>;
  unpriced_before: number;
  unpriced_after: number;
  /**
   * Customers holding a live outstanding offer: asking now, they are shown it until it expires or
   * is answered, whatever the rules would decide afresh.
   */
  holding_offer: number;
}

/** One page of a plan, or (merged) the whole plan. */
export interface PlanReport {
  /** The plan's "now" and the end of its horizon (ISO 8601). */
  at: string;
  until: string;
  days: number;
  base: { version: string; source: "deployed" | "request" };
  proposed: { version: string };
  /** Customers evaluated (erased ones are not customers any more). */
  customers: number;
  /**
   * Customers whose offer changes in at least one of the offer rows (each customer counted once, where
   * the rows' moves count them once per context and reason).
   */
  customers_with_offer_moves: number;
  /**
   * Open dunning cases whose cadence a ruleset does not have (renamed or removed): the tick leaves
   * such a case open and sends it nothing more. Optional in answers from older Workers.
   */
  open_cases_without_cadence?: { before: number; after: number };
  segments: PlanSegmentRow[];
  offers: PlanOfferRow[];
  campaigns: PlanCampaignRow[];
  programmes: PlanProgrammeRow[];
  /** What computing it cost in D1. */
  cost: { rows_read: number; queries: number; pages: number };
  /** Where the next page starts (pass it back as `cursor`); null when this was the last page. */
  next_cursor: string | null;
}

/**
 * One plan from its pages: every count summed, rows merged by their key (a segment; a context and
 * each of its from → to moves; a campaign occurrence's step; a programme; a day; a step), the first
 * PLAN_EXAMPLES example ids kept (by code point, the order the Worker pages customers in), rows in
 * a fixed order (moves largest first) and the cost added up. The moment, horizon and versions are
 * the first page's: every page of one plan shares them. Pure: the pages are not changed.
 *
 * @example mergePlanPages([page1, page2]).next_cursor // → null
 * @throws Error for an empty list (a plan has at least one page)
 */
export function mergePlanPages(pages: readonly PlanReport[]): PlanReport {
  const first = pages[0];
  if (!first) throw new Error("mergePlanPages needs at least one page");
  const segments = new Map<string, PlanSegmentRow>();
  const offers = new Map<string, PlanOfferRow>();
  const campaigns = new Map<string, PlanCampaignRow>();
  const programmes = new Map<string, PlanProgrammeRow>();
  for (const page of pages) {
    for (const row of page.segments) mergeInto(segments, row.segment, row, mergeSegment);
    for (const row of page.offers) mergeInto(offers, keyOf(row.context, row.reason ?? ""), row, mergeOffer);
    for (const row of page.campaigns) {
      mergeInto(campaigns, keyOf(row.campaign, row.occurrence, row.step, row.due_at), row, mergeCampaign);
    }
    for (const row of page.programmes)
      mergeInto(programmes, keyOf(row.programme, row.key), row, mergeProgramme);
  }
  return {
    at: first.at,
    until: first.until,
    days: first.days,
    base: { ...first.base },
    proposed: { ...first.proposed },
    customers: sum(pages, (page) => page.customers),
    customers_with_offer_moves: sum(pages, (page) => page.customers_with_offer_moves ?? 0),
    open_cases_without_cadence: {
      before: sum(pages, (page) => page.open_cases_without_cadence?.before ?? 0),
      after: sum(pages, (page) => page.open_cases_without_cadence?.after ?? 0),
    },
    segments: [...segments.values()].sort((a, b) => compareCodePoints(a.segment, b.segment)),
    offers: [...offers.values()].sort(
      (a, b) =>
        compareCodePoints(a.context, b.context) ||
        (a.reason === null
          ? b.reason === null
            ? 0
            : -1
          : b.reason === null
            ? 1
            : compareCodePoints(a.reason, b.reason)),
    ),
    campaigns: [...campaigns.values()].sort(
      (a, b) =>
        compareCodePoints(a.due_at, b.due_at) ||
        compareCodePoints(a.campaign, b.campaign) ||
        compareCodePoints(a.occurrence, b.occurrence) ||
        compareCodePoints(a.step, b.step),
    ),
    programmes: [...programmes.values()].sort(
      (a, b) => compareCodePoints(a.programme, b.programme) || compareCodePoints(a.key, b.key),
    ),
    cost: {
      rows_read: sum(pages, (page) => page.cost.rows_read),
      queries: sum(pages, (page) => page.cost.queries),
      pages: sum(pages, (page) => page.cost.pages),
    },
    next_cursor: null,
  };
}

/**
 * Orders strings by Unicode code point, as SQLite's BINARY collation orders customer ids (by UTF-8
 * bytes). `<` on JS strings compares UTF-16 units, which puts U+FF21 after U+1F600.
 */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function keyOf(...parts: string[]): string {
  return parts.join("\u0000");
}

/** Merges `row` into the row of the same key; the first row of a key is merged with nothing (copied). */
function mergeInto<Row>(
  rows: Map<string, Row>,
  key: string,
  row: Row,
  merge: (into: Row | undefined, row: Row) => Row,
): void {
  rows.set(key, merge(rows.get(key), row));
}

function mergeSegment(into: PlanSegmentRow | undefined, row: PlanSegmentRow): PlanSegmentRow {
  return {
    segment: row.segment,
    before: addNullable(into?.before ?? null, row.before),
    after: addNullable(into?.after ?? null, row.after),
    entering: (into?.entering ?? 0) + row.entering,
    leaving: (into?.leaving ?? 0) + row.leaving,
    entering_examples: firstExamples(into?.entering_examples, row.entering_examples),
    leaving_examples: firstExamples(into?.leaving_examples, row.leaving_examples),
  };
}

function mergeOffer(into: PlanOfferRow | undefined, row: PlanOfferRow): PlanOfferRow {
  const moves = new Map<string, PlanOfferMove>();
  for (const move of [...(into?.moves ?? []), ...row.moves]) {
    const key = JSON.stringify([move.from, move.to]);
    const seen = moves.get(key);
    moves.set(key, {
      from: move.from,
      to: move.to,
      customers: (seen?.customers ?? 0) + move.customers,
      examples: firstExamples(seen?.examples, move.examples),
    });
  }
  return {
    context: row.context,
    reason: row.reason ?? null,
    moves: [...moves.values()].sort(
      (a, b) => b.customers - a.customers || compareOfferKeys(a.from, b.from) || compareOfferKeys(a.to, b.to),
    ),
    unchanged: (into?.unchanged ?? 0) + row.unchanged,
    cost_before: addRecords(into?.cost_before, row.cost_before),
    cost_after: addRecords(into?.cost_after, row.cost_after),
    unpriced_before: (into?.unpriced_before ?? 0) + row.unpriced_before,
    unpriced_after: (into?.unpriced_after ?? 0) + row.unpriced_after,
    holding_offer: (into?.holding_offer ?? 0) + row.holding_offer,
  };
}

/** No offer first, then offers by key. */
function compareOfferKeys(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  return compareCodePoints(a, b);
}

function mergeCampaign(into: PlanCampaignRow | undefined, row: PlanCampaignRow): PlanCampaignRow {
  return {
    campaign: row.campaign,
    occurrence: row.occurrence,
    step: row.step,
    due_at: into?.due_at ?? row.due_at,
    before: addCampaignStats(into?.before ?? null, row.before),
    after: addCampaignStats(into?.after ?? null, row.after),
  };
}

function addCampaignStats(
  a: PlanCampaignStats | null,
  b: PlanCampaignStats | null,
): PlanCampaignStats | null {
  if (a === null && b === null) return null;
  const add = (pick: (stats: PlanCampaignStats) => number) => (a ? pick(a) : 0) + (b ? pick(b) : 0);
  return {
    audience: add((s) => s.audience),
    sent: add((s) => s.sent),
    holdout: add((s) => s.holdout),
    frequency_capped: add((s) => s.frequency_capped),
    deferred: add((s) => s.deferred),
    no_offer: add((s) => s.no_offer),
  };
}

function mergeProgramme(into: PlanProgrammeRow | undefined, row: PlanProgrammeRow): PlanProgrammeRow {
  return {
    programme: row.programme,
    key: row.key,
    before: addProgrammeCounts(into?.before ?? null, row.before),
    after: addProgrammeCounts(into?.after ?? null, row.after),
  };
}

function addProgrammeCounts(
  a: PlanProgrammeCounts | null,
  b: PlanProgrammeCounts | null,
): PlanProgrammeCounts | null {
  if (a === null && b === null) return null;
  const byDay: PlanProgrammeCounts["by_day"] = {};
  const days = new Set([...Object.keys(a?.by_day ?? {}), ...Object.keys(b?.by_day ?? {})]);
  for (const day of [...days].sort(compareCodePoints)) {
    const x = a?.by_day[day];
    const y = b?.by_day[day];
    byDay[day] = {
      sends: (x?.sends ?? 0) + (y?.sends ?? 0),
      final_actions: (x?.final_actions ?? 0) + (y?.final_actions ?? 0),
    };
  }
  return {
    sends: (a?.sends ?? 0) + (b?.sends ?? 0),
    final_actions: (a?.final_actions ?? 0) + (b?.final_actions ?? 0),
    cancels: (a?.cancels ?? 0) + (b?.cancels ?? 0),
    by_day: byDay,
    steps: addRecords(a?.steps, b?.steps),
    customers: (a?.customers ?? 0) + (b?.customers ?? 0),
    examples: firstExamples(a?.examples, b?.examples ?? []),
  };
}

/** Sums two records key by key, keys in code-point order (so the JSON is the same whatever the pages). */
function addRecords(
  a: Readonly<Record<string, number>> | undefined,
  b: Readonly<Record<string, number>> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  for (const key of [...keys].sort(compareCodePoints)) out[key] = (a?.[key] ?? 0) + (b?.[key] ?? 0);
  return out;
}

/** Null only when neither side is in the ruleset: a count and null add up to the count. */
function addNullable(a: number | null, b: number | null): number | null {
  return a === null && b === null ? null : (a ?? 0) + (b ?? 0);
}

function firstExamples(a: readonly string[] | undefined, b: readonly string[]): string[] {
  return [...new Set([...(a ?? []), ...b])].sort(compareCodePoints).slice(0, PLAN_EXAMPLES);
}

function sum<T>(items: readonly T[], count: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += count(item);
  return total;
}
