/**
 * One page of a plan: the next `pageSize` customers (keyset on id), read from D1 in seven statements
 * whatever the page size (the watermarks, the campaign runs the horizon touches, the page, and the
 * page's events, sends, dunning cases and offers), then evaluated in memory under the base and the proposed ruleset:
 * segment memberships now, the offer each context would give now, and the projection of every
 * scheduled programme over the horizon (worker/plan/project.ts). Nothing is written. The answer is
 * counts that add across pages (dsl/plan-report.ts); `rebound plan` follows `next_cursor`.
 *
 * Cost: rows read are the page's customers plus their events of the types the rules read within the
 * longest window, their recent sends, cases and offer decisions: per customer, not per history.
 *
 * On a sharded deployment (`planPageOfShards`) the page is the first `pageSize` customer ids after the
 * cursor over every shard: each shard offers its first `pageSize`, the smallest ids are kept, and
 * each shard then reads the facts of its kept customers only. A customer is projected with its own
 * shard's campaign runs and lifecycle watermark (each shard runs its part of the programmes) and the
 * control database's tick watermark, in id order across shards, so the report, its examples and its
 * cursor (the page's last id, valid on every shard) are what one database holding everyone answers.
 */

import {
  DAY_MS,
  decideOffer,
  type EventRecord,
  OFFER_CONTEXTS,
  type OfferContext,
  PLAN_EXAMPLES,
  type PlanCampaignRow,
  type PlanCampaignStats,
  type PlanOfferMove,
  type PlanOfferRow,
  type PlanProgrammeCounts,
  type PlanProgrammeKind,
  type PlanProgrammeRow,
  type PlanReport,
  type PlanSegmentRow,
  type Ruleset,
  rewardCost,
} from "../../dsl";
import { parseAttributes } from "../attributes/check-attributes";
import { compareText } from "../db/shard-reads";
import { allShards, controlDatabase } from "../db/shards";
import { decisionRulesetOf } from "../decisions/decision-ruleset";
import type { Env } from "../env";
import { sendIdFloor } from "../tick/audience";
import type { CustomerRowJson } from "../tick/context";
import { TICK_LIMITS } from "../tick/limits";
import { campaignStages } from "../tick/stages";
import { readWatermarks } from "../tick/state";
import {
  type CustomerFacts,
  type PlannedOccurrence,
  type Projection,
  plannedOccurrences,
  projectCustomer,
  runKey,
  type StoredCase,
  type StoredOffer,
  type StoredRun,
  type StoredSend,
} from "./project";

export interface PlanPageRequest {
  readonly base: Ruleset;
  readonly baseSource: "deployed" | "request";
  readonly proposed: Ruleset;
  /** The plan's now (epoch ms) and horizon in days. */
  readonly now: number;
  readonly days: number;
  /** Last customer id of the previous page ("" for the first). */
  readonly cursor: string;
  readonly pageSize: number;
}

/** Counts D1 work for the report. */
class Meter {
  rowsRead = 0;
  queries = 0;
  async all<T>(statement: D1PreparedStatement): Promise<T[]> {
    const { results, meta } = await statement.all<T>();
    this.queries += 1;
    this.rowsRead += meta.rows_read ?? 0;
    return results;
  }
}

/** Evaluates one page of customers under both rulesets. */
export async function planPage(db: D1Database, request: PlanPageRequest): Promise<PlanReport> {
  const { base, proposed, now, days } = request;
  const until = now + days * DAY_MS;
  const meter = new Meter();
  const marks = await readWatermarks(db);
  meter.queries += 1;

  const runs = await readRuns(db, meter, [base, proposed], now, until, marks.tick);
  const setups = [base, proposed].map((ruleset) => ({
    ruleset,
    now,
    until,
    lifecycleFrom: lifecycleFrom(marks.lifecycle, now),
    occurrences: plannedOccurrences(ruleset, now, until, marks.tick, runs),
  }));

  const rows = await readPageRows(db, meter, request);
  const ids = rows.map((row) => row.id);
  const facts = ids.length === 0 ? [] : await readFacts(db, meter, rows, [base, proposed], now, until);

  const report = emptyReport(request, until);
  const asks = asksOf([base, proposed]);
  const tally = new Tally(report, setups, asks);
  const stranded = report.open_cases_without_cadence!;
  for (const customer of facts) {
    for (const stored of customer.cases) {
      if (stored.status !== "open") continue;
      if (!base.dunning.some((cadence) => cadence.ir.key === stored.cadence)) stranded.before += 1;
      if (!proposed.dunning.some((cadence) => cadence.ir.key === stored.cadence)) stranded.after += 1;
    }
    const before = evaluateCustomer(setups[0]!, customer, asks);
    const after = evaluateCustomer(setups[1]!, customer, asks);
    tally.add(customer, before, after);
  }
  tally.finish();
  report.customers = facts.length;
  report.cost = { rows_read: meter.rowsRead, queries: meter.queries, pages: 1 };
  report.next_cursor = rows.length === request.pageSize ? rows[rows.length - 1]!.id : null;
  return report;
}

/** A customer row of a page, with whether its card's expiry was reported by the plan's now. */
type PageRow = CustomerRowJson & { _card_reported: number };

/** The first `pageSize` customers after the cursor, by id, in one statement. */
async function readPageRows(db: D1Database, meter: Meter, request: PlanPageRequest): Promise<PageRow[]> {
  const { base, proposed, now } = request;
  // A card-expiry reminder needs the card's report at or before now (lifecycle.ts); only customers
  // with a card expiry are probed (the daily history's probe walks a customer's days).
  const hasCardExpiry = base.cardExpiry !== null || proposed.cardExpiry !== null;
  const cardReported = hasCardExpiry
    ? `CASE WHEN c.card_expires_at IS NULL THEN 0 ELSE (
         EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.id AND e.type = 'card.expiring' AND e.occurred_at <= ?3)
         OR EXISTS (SELECT 1 FROM event_days d WHERE d.customer_id = c.id AND d.type = 'card.expiring' AND d.day < ?4)) END`
    : "0";
  const pageParams: (string | number)[] = [request.cursor, request.pageSize];
  if (hasCardExpiry) pageParams.push(now, Math.floor(now / DAY_MS));
  return meter.all<PageRow>(
    db
      .prepare(
        `SELECT c.*, ${cardReported} AS _card_reported FROM customers c WHERE c.id > ?1 ORDER BY c.id LIMIT ?2`,
      )
      .bind(...pageParams),
  );
}

/**
 * One page of a plan over every shard: see the module comment. Statements: the watermarks, runs and
 * page on each shard, then the facts of each shard's kept customers.
 */
export async function planPageOfShards(
  env: Env,
  request: PlanPageRequest,
): Promise<PlanReport & { shards: number }> {
  const { base, proposed, now, days } = request;
  const until = now + days * DAY_MS;
  const meter = new Meter();
  const shards = allShards(env);
  const control = await readWatermarks(controlDatabase(env));
  meter.queries += 1;
  const offered = await Promise.all(
    shards.map(async (shard) => {
      const marks = await readWatermarks(shard.db);
      meter.queries += 1;
      const runs = await readRuns(shard.db, meter, [base, proposed], now, until, control.tick);
      const setups = [base, proposed].map((ruleset) => ({
        ruleset,
        now,
        until,
        lifecycleFrom: lifecycleFrom(marks.lifecycle, now),
        occurrences: plannedOccurrences(ruleset, now, until, control.tick, runs),
      }));
      return { shard, setups, rows: await readPageRows(shard.db, meter, request) };
    }),
  );
  // The page: the smallest `pageSize` ids of every shard's offer (each shard offered its smallest).
  const kept = offered
    .flatMap(({ rows }, n) => rows.map((row) => ({ row, n })))
    .sort((a, b) => compareText(a.row.id, b.row.id))
    .slice(0, request.pageSize);
  const factsByShard = await Promise.all(
    offered.map(async ({ shard }, n) => {
      const rows = kept.filter((entry) => entry.n === n).map((entry) => entry.row);
      const facts =
        rows.length === 0 ? [] : await readFacts(shard.db, meter, rows, [base, proposed], now, until);
      return new Map(facts.map((customer) => [customer.row.id, customer]));
    }),
  );

  const report = emptyReport(request, until);
  const asks = asksOf([base, proposed]);
  const tally = new Tally(report, offered[0]!.setups, asks);
  for (const { setups } of offered.slice(1)) tally.register(setups);
  const stranded = report.open_cases_without_cadence!;
  for (const { row, n } of kept) {
    const customer = factsByShard[n]!.get(row.id)!;
    for (const stored of customer.cases) {
      if (stored.status !== "open") continue;
      if (!base.dunning.some((cadence) => cadence.ir.key === stored.cadence)) stranded.before += 1;
      if (!proposed.dunning.some((cadence) => cadence.ir.key === stored.cadence)) stranded.after += 1;
    }
    const setups = offered[n]!.setups;
    tally.add(
      customer,
      evaluateCustomer(setups[0]!, customer, asks),
      evaluateCustomer(setups[1]!, customer, asks),
    );
  }
  tally.finish();
  report.customers = kept.length;
  report.cost = { rows_read: meter.rowsRead, queries: meter.queries, pages: 1 };
  report.next_cursor = kept.length === request.pageSize ? kept[kept.length - 1]!.row.id : null;
  return { ...report, shards: shards.length };
}

/** The lifecycle scans' first window (lifecycle.ts): from the watermark less the overlap, bounded. */
function lifecycleFrom(watermark: number | null, now: number): number {
  const wanted = (watermark === null ? now : Math.min(watermark, now)) - TICK_LIMITS.lifecycleOverlapMs;
  return Math.max(wanted, now - TICK_LIMITS.lifecycleCatchUpMs);
}

/** The campaign runs of the occurrences the horizon touches (status and cursor). */
async function readRuns(
  db: D1Database,
  meter: Meter,
  rulesets: readonly Ruleset[],
  now: number,
  until: number,
  lastCleanTick: number | null,
): Promise<Map<string, StoredRun>> {
  const keys = new Map<string, [string, string, string, number]>();
  for (const ruleset of rulesets) {
    for (const planned of plannedOccurrences(ruleset, now, until, lastCleanTick, new Map())) {
      const stage = planned.stage;
      keys.set(runKey(stage.campaign.key, planned.occurrenceAt, stage), [
        stage.campaign.key,
        new Date(planned.occurrenceAt).toISOString(),
        String(stage.step),
        stage.offsetMs,
      ]);
    }
  }
  const runs = new Map<string, StoredRun>();
  if (rulesets.every((ruleset) => ruleset.campaigns.size === 0)) return runs;
  // campaign_runs_occurrence_step: one seek per occurrence the plan covers; and every run still
  // `running` (campaign_runs_status_lease), which the first tick resumes whatever its occurrence.
  const found = await meter.all<{
    campaign: string;
    occurrence: string;
    step: string;
    offset_ms: number;
    status: string;
    cursor: string | null;
  }>(
    db
      .prepare(
        `SELECT r.campaign, r.occurrence, r.step, r.offset_ms, r.status, r.cursor
         FROM json_each(?1) AS k JOIN campaign_runs r ON r.campaign = k.value ->> 0
           AND r.occurrence = k.value ->> 1 AND r.step = k.value ->> 2 AND r.offset_ms = k.value ->> 3
         UNION
         SELECT campaign, occurrence, step, offset_ms, status, cursor FROM campaign_runs
         WHERE status = 'running'`,
      )
      .bind(JSON.stringify([...keys.values()])),
  );
  for (const run of found) {
    const key = `${run.campaign}\u0000${run.occurrence}\u0000${run.step}\u0000${run.offset_ms}`;
    runs.set(key, { status: run.status, cursor: run.cursor, occurrenceAt: Date.parse(run.occurrence) });
  }
  return runs;
}

/** Events, sends, dunning cases and offers of the page's customers: four statements. */
async function readFacts(
  db: D1Database,
  meter: Meter,
  rows: readonly (CustomerRowJson & { _card_reported: number })[],
  rulesets: readonly Ruleset[],
  now: number,
  until: number,
): Promise<CustomerFacts[]> {
  const ids = JSON.stringify(rows.map((row) => row.id));
  const types = new Set<string>(["subscription.canceled"]);
  let windowMs: number | null = 0;
  let historyMs = 0;
  let sendsMs = TICK_LIMITS.lifecycleCatchUpMs + TICK_LIMITS.lifecycleOverlapMs;
  for (const ruleset of rulesets) {
    for (const type of ruleset.reads.all.eventTypes) types.add(type);
    const window = ruleset.reads.all.eventWindowMs;
    windowMs = windowMs === null || window === null ? null : Math.max(windowMs, window);
    historyMs = Math.max(historyMs, decisionRulesetOf(ruleset).historyHorizonMs);
    for (const cap of ruleset.frequencyCaps.values()) sendsMs = Math.max(sendsMs, cap.perMs);
    for (const campaign of ruleset.campaigns.values())
      for (const stage of campaignStages(campaign))
        sendsMs = Math.max(sendsMs, stage.offsetMs + TICK_LIMITS.catchUpWindowMs);
  }
  const [events, sends, cases, offers] = await Promise.all([
    // events_customer_type_time: one seek per customer and type; cancellations however old (the
    // anti-abuse guard counts them all).
    meter.all<{ customer_id: string; id: string; type: string; occurred_at: number; properties: string }>(
      db
        .prepare(
          // Two ranges, so each seek is bounded on both sides: the window's types within it, and
          // the cancellations of all time.
          `SELECT customer_id, id, type, occurred_at, properties FROM events
           WHERE customer_id IN (SELECT value FROM json_each(?1)) AND type IN (SELECT value FROM json_each(?2))
             AND occurred_at > ?3 AND occurred_at <= ?4
           UNION ALL
           SELECT customer_id, id, type, occurred_at, properties FROM events
           WHERE customer_id IN (SELECT value FROM json_each(?1)) AND type = 'subscription.canceled'
             AND occurred_at <= ?4
           ORDER BY customer_id, occurred_at, id`,
        )
        .bind(
          ids,
          JSON.stringify([...types].filter((type) => type !== "subscription.canceled")),
          windowMs === null ? Number.MIN_SAFE_INTEGER : now - windowMs,
          until,
        ),
    ),
    // sends_customer_id: the sends recent enough to matter for an anti-join or a frequency cap.
    meter.all<{
      customer_id: string;
      programme_kind: string;
      programme_key: string;
      occurrence: string;
      step: string;
      status: string;
      created_at: number;
    }>(
      db
        .prepare(
          // And every send of an open dunning case, however old: the tick's enqueue drops a step
          // sent before, even one a changed cadence makes due again. CROSS JOIN keeps the cases
          // first (a plain join walked every dunning send), each a seek on the sends' unique key.
          `SELECT customer_id, programme_kind, programme_key, occurrence, step, status, created_at
           FROM sends INDEXED BY sends_customer_id
           WHERE customer_id IN (SELECT value FROM json_each(?1)) AND id >= ?2
           UNION ALL
           SELECT s.customer_id, s.programme_kind, s.programme_key, s.occurrence, s.step, s.status, s.created_at
           FROM dunning_cases d CROSS JOIN sends s INDEXED BY sends_programme_occurrence_step_customer
             ON s.programme_kind = 'dunning' AND s.programme_key = d.cadence
             AND s.occurrence = d.invoice_id AND s.customer_id = d.customer_id
           WHERE d.customer_id IN (SELECT value FROM json_each(?1)) AND d.status = 'open' AND s.id < ?2`,
        )
        .bind(ids, sendIdFloor(now - sendsMs)),
    ),
    // The primary key (customer_id, invoice_id); an open case's recovery as dunning.ts reads it.
    meter.all<{
      customer_id: string;
      invoice_id: string;
      cadence: string;
      status: string;
      failed_at: number;
      last_step: string | null;
      paid_at: number | null;
    }>(
      db
        .prepare(
          `SELECT d.customer_id, d.invoice_id, d.cadence, d.status, d.failed_at, d.last_step,
             CASE WHEN d.status = 'open' THEN (SELECT min(s.occurred_at) FROM events s
               WHERE s.customer_id = d.customer_id AND s.type = 'payment.succeeded'
                 AND json_extract(s.properties, '$.invoice_id') = d.invoice_id) END AS paid_at
           FROM dunning_cases d WHERE d.customer_id IN (SELECT value FROM json_each(?1))`,
        )
        .bind(ids),
    ),
    // decisions_customer_offers: offers within the longest cap window, the outstanding one, and
    // every redeemed one (the anti-abuse guard has no horizon).
    meter.all<{
      customer_id: string;
      offer_key: string;
      created_at: number;
      expires_at: number | null;
      status: string;
      reward_kind: string | null;
      redeemed_at: number | null;
    }>(
      db
        .prepare(
          `SELECT d.customer_id, d.offer_key, d.created_at, d.expires_at, d.status,
             json_extract(d.reward, '$.type') AS reward_kind, r.redeemed_at
           FROM decisions d LEFT JOIN redemptions r ON r.decision_id = d.id
           WHERE d.customer_id IN (SELECT value FROM json_each(?1)) AND d.offer_key IS NOT NULL
             AND d.created_at <= ?3
             AND (d.status = 'outstanding' OR d.created_at > ?2 OR r.redeemed_at IS NOT NULL)`,
        )
        .bind(ids, now - historyMs, now),
    ),
  ]);

  const byCustomer = <T extends { customer_id: string }>(list: readonly T[]) => {
    const map = new Map<string, T[]>();
    for (const item of list) {
      const entries = map.get(item.customer_id) ?? [];
      entries.push(item);
      map.set(item.customer_id, entries);
    }
    return map;
  };
  const eventsOf = byCustomer(events);
  const sendsOf = byCustomer(sends);
  const casesOf = byCustomer(cases);
  const offersOf = byCustomer(offers);

  return rows.map((row) => {
    const { profile_state: _state, _card_reported, ...profile } = row;
    return {
      row: profile as CustomerRowJson,
      attributes: parseAttributes(row.attributes),
      events: (eventsOf.get(row.id) ?? []).map(
        (event): EventRecord => ({
          id: event.id,
          type: event.type,
          occurred_at: event.occurred_at,
          properties: JSON.parse(event.properties) as Record<string, unknown>,
        }),
      ),
      sends: (sendsOf.get(row.id) ?? []).map(
        (send): StoredSend => ({
          kind: send.programme_kind,
          key: send.programme_key,
          occurrence: send.occurrence,
          step: send.step,
          createdAt: send.created_at,
          dead: send.status === "dead",
        }),
      ),
      cases: (casesOf.get(row.id) ?? []).map(
        (stored): StoredCase => ({
          invoiceId: stored.invoice_id,
          cadence: stored.cadence,
          status: stored.status,
          failedAt: stored.failed_at,
          lastStep: stored.last_step,
          paidAt: stored.paid_at,
        }),
      ),
      offers: (offersOf.get(row.id) ?? []).map(
        (offer): StoredOffer => ({
          offerKey: offer.offer_key,
          rewardKind: offer.reward_kind,
          at: offer.created_at,
          redeemedAt: offer.redeemed_at,
          status: offer.status,
          expiresAt: offer.expires_at,
        }),
      ),
      cardReported: _card_reported === 1,
    };
  });
}

interface Setup {
  readonly ruleset: Ruleset;
  readonly now: number;
  readonly until: number;
  readonly lifecycleFrom: number;
  readonly occurrences: readonly PlannedOccurrence[];
}

/** What one ruleset makes of one customer. */
interface CustomerOutcome {
  readonly segments: ReadonlySet<string>;
  /** By askKey. */
  readonly offers: ReadonlyMap<string, OfferAnswer>;
  readonly holding: boolean;
  readonly projection: Projection;
}

/** One way a customer can ask for an offer: a context, and in the cancel flow the reason picked. */
interface Ask {
  readonly context: OfferContext;
  readonly reason: string | null;
}

type OfferAnswer = { key: string | null; cost: { amount: number; currency: string } | null };

function askKey(ask: Ask): string {
  return `${ask.context}\u0000${ask.reason ?? ""}`;
}

/**
 * Every context without a reason, and the cancel flow once per reason either ruleset declares: a
 * change to the reason-to-reward mapping shows as the moves of that reason's row.
 */
function asksOf(rulesets: readonly Ruleset[]): Ask[] {
  const reasons = [...new Set(rulesets.flatMap((ruleset) => [...ruleset.reasons.keys()]))].sort(compare);
  return OFFER_CONTEXTS.flatMap((context): Ask[] => [
    { context, reason: null },
    ...(context === "cancel_flow" ? reasons.map((reason) => ({ context, reason })) : []),
  ]);
}

function evaluateCustomer(setup: Setup, facts: CustomerFacts, asks: readonly Ask[]): CustomerOutcome {
  const { ruleset, now } = setup;
  const ctx = {
    now,
    customer: { ...facts.row, attributes: facts.attributes },
    events: facts.events.filter((event) => event.occurred_at <= now),
  };
  const segments = new Set<string>();
  for (const [key, segment] of ruleset.segments) if (segment.when.test(ctx)) segments.add(key);
  const history = {
    offers: facts.offers.filter(
      (offer) => offer.at <= now && offer.status !== "withdrawn" && offer.status !== "superseded",
    ),
    cancellations: facts.events
      .filter((event) => event.type === "subscription.canceled" && event.occurred_at <= now)
      .map((event) => event.occurred_at),
  };
  const offers = new Map<string, OfferAnswer>();
  for (const ask of asks) {
    const decision = decideOffer(ruleset, ctx, { context: ask.context, reason: ask.reason, history });
    offers.set(askKey(ask), {
      key: decision.offer?.key ?? null,
      cost: decision.offer ? rewardCost(decision.offer.reward, ctx.customer) : null,
    });
  }
  const holding = facts.offers.some(
    (offer) => offer.status === "outstanding" && offer.expiresAt !== null && offer.expiresAt > now,
  );
  return { segments, offers, holding, projection: projectCustomer(setup, facts) };
}

function emptyReport(request: PlanPageRequest, until: number): PlanReport {
  return {
    at: new Date(request.now).toISOString(),
    until: new Date(until).toISOString(),
    days: request.days,
    base: { version: request.base.version, source: request.baseSource },
    proposed: { version: request.proposed.version },
    customers: 0,
    customers_with_offer_moves: 0,
    open_cases_without_cadence: { before: 0, after: 0 },
    segments: [],
    offers: [],
    campaigns: [],
    programmes: [],
    cost: { rows_read: 0, queries: 0, pages: 1 },
    next_cursor: null,
  };
}

const emptyCounts = (): PlanProgrammeCounts => ({
  sends: 0,
  final_actions: 0,
  cancels: 0,
  by_day: {},
  steps: {},
  customers: 0,
  examples: [],
});

const emptyStats = (): PlanCampaignStats => ({
  audience: 0,
  sent: 0,
  holdout: 0,
  frequency_capped: 0,
  deferred: 0,
  no_offer: 0,
});

/** The programmes a ruleset runs, as plan rows name them. */
function programmesOf(ruleset: Ruleset): { programme: PlanProgrammeKind; key: string }[] {
  return [
    ...ruleset.dunning.map((cadence) => ({ programme: "dunning" as const, key: cadence.ir.key })),
    ...ruleset.winback.map((sequence) => ({ programme: "winback" as const, key: sequence.ir.key })),
    ...ruleset.inactivity.map((rule) => ({ programme: "inactivity" as const, key: rule.ir.key })),
    ...(ruleset.cardExpiry ? [{ programme: "card_expiry" as const, key: "card_expiry" }] : []),
  ];
}

/** Adds customers' outcomes into the page's report rows. */
class Tally {
  private readonly segments = new Map<string, PlanSegmentRow>();
  private readonly offers = new Map<string, PlanOfferRow>();
  private readonly moves = new Map<string, { row: string; move: PlanOfferMove }>();
  private readonly campaigns = new Map<string, PlanCampaignRow>();
  private readonly programmes = new Map<string, PlanProgrammeRow>();

  constructor(
    private readonly report: PlanReport,
    setups: readonly Setup[],
    private readonly asks: readonly Ask[],
  ) {
    const [base, proposed] = [setups[0]!.ruleset, setups[1]!.ruleset];
    this.initialRows(base, proposed, asks);
    this.register(setups);
  }

  private initialRows(base: Ruleset, proposed: Ruleset, asks: readonly Ask[]): void {
    for (const key of new Set([...base.segments.keys(), ...proposed.segments.keys()])) {
      this.segments.set(key, {
        segment: key,
        before: base.segments.has(key) ? 0 : null,
        after: proposed.segments.has(key) ? 0 : null,
        entering: 0,
        leaving: 0,
        entering_examples: [],
        leaving_examples: [],
      });
    }
    for (const ask of asks) {
      this.offers.set(askKey(ask), {
        context: ask.context,
        reason: ask.reason,
        moves: [],
        unchanged: 0,
        cost_before: {},
        cost_after: {},
        unpriced_before: 0,
        unpriced_after: 0,
        holding_offer: 0,
      });
    }
  }

  /**
   * The campaign and programme rows of a [base, proposed] pair of setups; a sharded plan registers
   * every shard's pair (a shard whose part of a run is unfinished plans it again).
   */
  register(setups: readonly Setup[]): void {
    setups.forEach((setup, side) => {
      for (const planned of setup.occurrences) {
        const row = this.campaignRow(planned);
        if (side === 0) row.before ??= emptyStats();
        else row.after ??= emptyStats();
      }
      for (const { programme, key } of programmesOf(setup.ruleset)) {
        const row = this.programmeRow(programme, key);
        if (side === 0) row.before ??= emptyCounts();
        else row.after ??= emptyCounts();
      }
    });
  }

  private campaignRow(planned: PlannedOccurrence): PlanCampaignRow {
    const occurrence = new Date(planned.occurrenceAt).toISOString();
    // The due time is part of the key: a step whose delay changed is another row on each side.
    const key = `${planned.stage.campaign.key}\u0000${occurrence}\u0000${planned.stage.step}\u0000${planned.dueAt}`;
    let row = this.campaigns.get(key);
    if (!row) {
      row = {
        campaign: planned.stage.campaign.key,
        occurrence,
        step: String(planned.stage.step),
        due_at: new Date(planned.dueAt).toISOString(),
        before: null,
        after: null,
      };
      this.campaigns.set(key, row);
    }
    return row;
  }

  private programmeRow(programme: PlanProgrammeKind, key: string): PlanProgrammeRow {
    const id = `${programme}\u0000${key}`;
    let row = this.programmes.get(id);
    if (!row) {
      row = { programme, key, before: null, after: null };
      this.programmes.set(id, row);
    }
    return row;
  }

  add(facts: CustomerFacts, before: CustomerOutcome, after: CustomerOutcome): void {
    const id = facts.row.id;
    for (const row of this.segments.values()) {
      const was = before.segments.has(row.segment);
      const is = after.segments.has(row.segment);
      if (was && row.before !== null) row.before += 1;
      if (is && row.after !== null) row.after += 1;
      if (is && !was) {
        row.entering += 1;
        example(row.entering_examples, id);
      }
      if (was && !is) {
        row.leaving += 1;
        example(row.leaving_examples, id);
      }
    }
    let offerMoved = false;
    for (const ask of this.asks) {
      const rowKey = askKey(ask);
      const row = this.offers.get(rowKey)!;
      const from = before.offers.get(rowKey)!;
      const to = after.offers.get(rowKey)!;
      if (before.holding) row.holding_offer += 1;
      price(row.cost_before, from, () => {
        row.unpriced_before += 1;
      });
      price(row.cost_after, to, () => {
        row.unpriced_after += 1;
      });
      if (from.key === to.key) {
        row.unchanged += 1;
        continue;
      }
      const key = `${rowKey}\u0000${from.key ?? ""}\u0000${to.key ?? ""}`;
      let entry = this.moves.get(key);
      if (!entry) {
        entry = { row: rowKey, move: { from: from.key, to: to.key, customers: 0, examples: [] } };
        this.moves.set(key, entry);
      }
      entry.move.customers += 1;
      example(entry.move.examples, id);
      offerMoved = true;
    }
    if (offerMoved) this.report.customers_with_offer_moves += 1;
    for (const [side, outcome] of [
      [0, before],
      [1, after],
    ] as const) {
      for (const effect of outcome.projection.campaigns) {
        const row = this.campaignRow(effect.occurrence);
        const stats = (side === 0 ? row.before : row.after) ?? emptyStats();
        stats.audience += 1;
        if (effect.outcome === "sent" || effect.outcome === "deferred") stats.sent += 1;
        if (effect.outcome === "deferred") stats.deferred += 1;
        if (effect.outcome === "holdout") stats.holdout += 1;
        if (effect.outcome === "frequency_capped") stats.frequency_capped += 1;
        if (effect.outcome === "no_offer") stats.no_offer += 1;
      }
      const touched = new Set<string>();
      for (const effect of outcome.projection.effects) {
        const row = this.programmeRow(effect.programme, effect.key);
        const counts = countsOf(row, side);
        const day = new Date(effect.at).toISOString().slice(0, 10);
        const byDay = counts.by_day[day] ?? { sends: 0, final_actions: 0 };
        counts.by_day[day] = byDay;
        if (effect.kind === "send") {
          counts.steps[effect.step] = (counts.steps[effect.step] ?? 0) + 1;
          counts.sends += 1;
          byDay.sends += 1;
        } else {
          counts.final_actions += 1;
          byDay.final_actions += 1;
          if (effect.cancels) counts.cancels += 1;
        }
        const rowKey = `${effect.programme}\u0000${effect.key}`;
        if (!touched.has(rowKey)) {
          touched.add(rowKey);
          counts.customers += 1;
          example(counts.examples, id);
        }
      }
    }
  }

  finish(): void {
    for (const { row, move } of this.moves.values()) this.offers.get(row)!.moves.push(move);
    for (const row of this.offers.values()) row.moves.sort((a, b) => b.customers - a.customers);
    this.report.segments = [...this.segments.values()];
    this.report.offers = [...this.offers.values()];
    this.report.campaigns = [...this.campaigns.values()].sort(
      (a, b) => compare(a.due_at, b.due_at) || compare(a.campaign, b.campaign) || compare(a.step, b.step),
    );
    this.report.programmes = [...this.programmes.values()];
  }
}

/** The row's counts for one side, created on first use. */
function countsOf(row: PlanProgrammeRow, side: 0 | 1): PlanProgrammeCounts {
  if (side === 0) {
    row.before = row.before ?? emptyCounts();
    return row.before;
  }
  row.after = row.after ?? emptyCounts();
  return row.after;
}

function example(list: string[], id: string): void {
  if (list.length < PLAN_EXAMPLES) list.push(id);
}

function price(into: Record<string, number>, offer: OfferAnswer, unpriced: () => void): void {
  if (offer.key === null) return;
  if (offer.cost === null) {
    unpriced();
    return;
  }
  into[offer.cost.currency] = (into[offer.cost.currency] ?? 0) + offer.cost.amount;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
