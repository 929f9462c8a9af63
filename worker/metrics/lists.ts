/**
 * The lists behind the metrics figures (which offers were accepted, who canceled, which dunning
 * cases recovered, recent decisions, sends that failed): keyset pages in a stable order, each page
 * one index range read from where the previous page stopped, never an OFFSET. The win-back and
 * campaign lists live beside their figures (read-winback.ts, read-campaigns.ts); this module holds
 * what every list shares: the opaque cursor, the page shape and the period's instants.
 *
 * On a sharded deployment every list is read on every shard with the same cursor and merged on its key
 * (`listOfShards`, worker/db/shard-reads.ts): each list's order is total, so the key of a page's last
 * item is a cursor every shard pages from.
 *
 * Stage: read-only, called by worker/api/routes/metrics-cohorts.ts with a parsed request; rows are
 * turned into API items here (ISO 8601 times, no recipient address anywhere).
 */
import type { Ruleset } from "../../dsl";
import { mergePages } from "../db/shard-reads";
import type { CsvColumn } from "./csv";
import { dayStart } from "./days";
import type { MetricsPeriod } from "./period";

/** Limits of the metrics lists. */
export const LIST_LIMITS = Object.freeze({ defaultPageSize: 100, maxPageSize: 500 });

/**
 * Runs `sql` with `params` and returns its rows. The routes hand the readers a counting handle
 * (worker/db/counted.ts), which is where the answer's `cost: { queries, rows_read }` comes from.
 */
export async function allRows<Row>(
  db: D1Database,
  sql: string,
  params: readonly (string | number | null)[],
): Promise<Row[]> {
  const { results } = await db
    .prepare(sql)
    .bind(...params)
    .all<Row>();
  return results;
}

/** A key value of a keyset position: a time (epoch ms) or an id. */
export type CursorKey = string | number;

/** A page request: at most `limit` items after the position `after` (null: from the start). */
export interface PageRequest {
  readonly limit: number;
  readonly after: readonly CursorKey[] | null;
}

/** One page of a list and the cursor of the next (null on the last page). */
export interface ListPage<Item> {
  readonly items: Item[];
  readonly nextCursor: string | null;
}

/** A list's items and its CSV columns, for the route to answer in JSON or CSV. */
export interface ListAnswer<Item> extends ListPage<Item> {
  readonly columns: readonly CsvColumn<Item>[];
}

/**
 * The opaque cursor of a keyset position: base64url of the JSON array of the last item's key.
 *
 * @example encodeCursor([1772353800000, "cus_1"]) // "WzE3NzIzNTM4MDAwMDAsImN1c18xIl0"
 */
export function encodeCursor(key: readonly CursorKey[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify(key));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The key of a cursor written by `encodeCursor`, checked against the shape the list expects
 * (`"number"` for a time, `"string"` for an id), or null when it is not one of ours.
 */
export function decodeCursor(text: string, shape: readonly ("number" | "string")[]): CursorKey[] | null {
  if (!/^[A-Za-z0-9_-]{1,1000}$/.test(text)) return null;
  let parsed: unknown;
  try {
    const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
    parsed = JSON.parse(
      new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
        Uint8Array.from(binary, (c) => c.charCodeAt(0)),
      ),
    );
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) return null;
  const ok = parsed.every((value, index) =>
    shape[index] === "number" ? Number.isSafeInteger(value) : typeof value === "string",
  );
  return ok ? (parsed as CursorKey[]) : null;
}

/** Turns `limit + 1` rows into a page: the extra row only says there is more. */
export function pageOf<Row, Item>(
  rows: readonly Row[],
  limit: number,
  key: (row: Row) => readonly CursorKey[],
  view: (row: Row) => Item,
): ListPage<Item> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: shown.map(view),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

/**
 * One list over several shards: `list` answers the same page request on each database, and the pages
 * merge on `keyOf` (the list's sort key, read back from an item) in `order`. One database: its page.
 *
 * @example listOfShards(dbs, 100, (db) => listRecentDecisions(db, page), (item) => [item.id], "desc")
 */
export async function listOfShards<Item>(
  dbs: readonly D1Database[],
  limit: number,
  list: (db: D1Database) => Promise<ListAnswer<Item>>,
  keyOf: (item: Item) => readonly CursorKey[],
  order: "asc" | "desc",
): Promise<ListAnswer<Item>> {
  if (dbs.length === 1) return list(dbs[0]!);
  const answers = await Promise.all(dbs.map(list));
  const merged = mergePages(
    answers.map((answer) => ({ rows: answer.items, more: answer.nextCursor !== null })),
    limit,
    keyOf,
    order,
  );
  const last = merged.rows.at(-1);
  return {
    items: merged.rows,
    nextCursor: merged.more && last !== undefined ? encodeCursor(keyOf(last)) : null,
    columns: answers[0]!.columns,
  };
}

/** The epoch ms of an item's ISO 8601 time, as its list's key holds it. */
export function keyTime(isoTime: string | null): number {
  return isoTime === null ? 0 : Date.parse(isoTime);
}

/** A period with the zone its days begin in, as the cohort reads need it. */
export interface CohortPeriod extends MetricsPeriod {
  /**
   * The zone of the period's day boundaries: the reporting zone, or `settings.default_timezone` when
   * it is `customer` (sends, exclusions and decisions are read by instant, not per customer).
   */
  zone: string;
}

/** `period` with the zone its day boundaries are read in. */
export function cohortPeriod(period: MetricsPeriod, ruleset: Pick<Ruleset, "defaultTimezone">): CohortPeriod {
  return { ...period, zone: period.timezone === "customer" ? ruleset.defaultTimezone : period.timezone };
}

/** The instants a period covers: from the start of its first day to the start of the day after its last. */
export function periodInstants(period: CohortPeriod): { start: number; end: number } {
  return { start: dayStart(period.from, period.zone), end: dayStart(period.to + 1, period.zone) };
}

/** ISO 8601 of an epoch-ms column, null stays null. */
export function iso(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

/**
 * The keyset condition "after `after`" on `(time, id)` columns, with the leading `time >=` that
 * makes SQLite start the index range at the cursor (the row value alone only filters).
 */
function afterCondition(
  time: string,
  id: string,
  after: readonly CursorKey[] | null,
  params: (string | number | null)[],
): string[] {
  if (after === null) return [];
  params.push(after[0]!, after[1]!);
  return [
    `${time} >= ?${params.length - 1}`,
    `(${time}, ${id}) > (?${params.length - 1}, ?${params.length})`,
  ];
}

// ---------------------------------------------------------------------------------------------
// GET /v1/metrics/offers/decisions

/** What a listed offer may be filtered on: what became of it. `shown` is every offer made. */
export const OFFER_LIST_STATUSES = [
  "shown",
  "outstanding",
  "accepted",
  "declined",
  "expired",
  "withdrawn",
  "superseded",
] as const;
export type OfferListStatus = (typeof OFFER_LIST_STATUSES)[number];

interface OfferDecisionRow {
  id: string;
  customer_id: string;
  context: string;
  reason: string | null;
  offer_key: string;
  experiment: string | null;
  variant: string | null;
  status: string;
  cost: number | null;
  cost_currency: string | null;
  ruleset_version: string;
  created_at: number;
  expires_at: number | null;
  responded_at: number | null;
}

export interface OfferDecisionItem {
  id: string;
  customer_id: string;
  context: string;
  reason: string | null;
  offer_key: string;
  variant: string | null;
  status: string;
  cost: number | null;
  cost_currency: string | null;
  ruleset_version: string;
  created_at: string;
  expires_at: string | null;
  responded_at: string | null;
}

const OFFER_DECISION_COLUMNS: readonly CsvColumn<OfferDecisionItem>[] = columnsOf([
  "id",
  "customer_id",
  "context",
  "reason",
  "offer_key",
  "variant",
  "status",
  "cost",
  "cost_currency",
  "ruleset_version",
  "created_at",
  "expires_at",
  "responded_at",
]);

/**
 * The offers made in the period (decisions with an offer, by `created_at`), oldest first, with
 * their status as of `now` (an outstanding offer past its expiry is `expired`). Reads
 * `decisions (created_at, id)` (index `decisions_created`).
 */
export async function listOfferDecisions(
  db: D1Database,
  request: PageRequest & {
    period: CohortPeriod;
    now: number;
    status: OfferListStatus;
    offer: string | null;
    reason: string | null;
  },
): Promise<ListAnswer<OfferDecisionItem>> {
  const { start, end } = periodInstants(request.period);
  const params: (string | number | null)[] = [start, end, request.now];
  const conditions = ["created_at >= ?1", "created_at < ?2", "offer_key IS NOT NULL"];
  conditions.push(...afterCondition("created_at", "id", request.after, params));
  if (request.offer !== null) {
    params.push(request.offer);
    conditions.push(`offer_key = ?${params.length}`);
  }
  if (request.reason !== null) {
    params.push(request.reason);
    conditions.push(`reason = ?${params.length}`);
  }
  const effectiveStatus =
    "CASE WHEN status = 'outstanding' AND expires_at IS NOT NULL AND expires_at <= ?3 THEN 'expired' ELSE status END";
  if (request.status !== "shown") {
    params.push(request.status);
    conditions.push(`${effectiveStatus} = ?${params.length}`);
  }
  params.push(request.limit + 1);
  const rows = await allRows<OfferDecisionRow>(
    db,
    `SELECT id, customer_id, context, reason, offer_key, experiment, variant, ${effectiveStatus} AS status,
       cost, cost_currency, ruleset_version, created_at, expires_at, responded_at
     FROM decisions WHERE ${conditions.join(" AND ")}
     ORDER BY created_at, id LIMIT ?${params.length}`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.created_at, row.id],
    (row): OfferDecisionItem => ({
      id: row.id,
      customer_id: row.customer_id,
      context: row.context,
      reason: row.reason,
      offer_key: row.offer_key,
      variant: variantLabel(row.experiment, row.variant),
      status: row.status,
      cost: row.cost,
      cost_currency: row.cost_currency,
      ruleset_version: row.ruleset_version,
      created_at: iso(row.created_at)!,
      expires_at: iso(row.expires_at),
      responded_at: iso(row.responded_at),
    }),
  );
  return { ...page, columns: OFFER_DECISION_COLUMNS };
}

/** `experiment/variant` as the offer metrics key variants, or null without an experiment. */
function variantLabel(experiment: string | null, variant: string | null): string | null {
  if (experiment === null || variant === null) return variant;
  return `${experiment}/${variant}`;
}

// ---------------------------------------------------------------------------------------------
// GET /v1/metrics/cancellations/customers

interface CanceledCustomerRow {
  id: string;
  canceled_at: number;
  churn_reason: string | null;
  plan: string | null;
  mrr: number | null;
  currency: string | null;
  signed_up_at: number | null;
}

export interface CanceledCustomerItem {
  customer_id: string;
  canceled_at: string;
  reason: string | null;
  involuntary: boolean;
  plan: string | null;
  mrr_lost: number | null;
  currency: string | null;
  signed_up_at: string | null;
}

const CANCELED_CUSTOMER_COLUMNS = columnsOf<CanceledCustomerItem>([
  "customer_id",
  "canceled_at",
  "reason",
  "involuntary",
  "plan",
  "mrr_lost",
  "currency",
  "signed_up_at",
]);

/**
 * Customers whose cancellation in the period still stands (status `canceled`, `canceled_at` in the
 * period), oldest cancellation first, by `customers_status_canceled_at`. A customer who has come
 * back since is no longer canceled and is not listed (the cancellation figures still count them).
 */
export async function listCanceledCustomers(
  db: D1Database,
  request: PageRequest & { period: CohortPeriod; reason: string | null; plan: string | null },
): Promise<ListAnswer<CanceledCustomerItem>> {
  const { start, end } = periodInstants(request.period);
  const params: (string | number | null)[] = [start, end];
  const conditions = ["status = 'canceled'", "canceled_at >= ?1", "canceled_at < ?2"];
  conditions.push(...afterCondition("canceled_at", "id", request.after, params));
  if (request.reason !== null) {
    params.push(request.reason);
    conditions.push(`churn_reason = ?${params.length}`);
  }
  if (request.plan !== null) {
    params.push(request.plan);
    conditions.push(`plan = ?${params.length}`);
  }
  params.push(request.limit + 1);
  const rows = await allRows<CanceledCustomerRow>(
    db,
    `SELECT id, canceled_at, churn_reason, plan, mrr, currency, signed_up_at
     FROM customers INDEXED BY customers_status_canceled_at
     WHERE ${conditions.join(" AND ")} ORDER BY canceled_at, id LIMIT ?${params.length}`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.canceled_at, row.id],
    (row): CanceledCustomerItem => ({
      customer_id: row.id,
      canceled_at: iso(row.canceled_at)!,
      reason: row.churn_reason,
      // Dunning's final action cancels with this reason: the metrics call such a loss involuntary.
      involuntary: row.churn_reason === "payment_failed",
      plan: row.plan,
      mrr_lost: row.mrr,
      currency: row.currency,
      signed_up_at: iso(row.signed_up_at),
    }),
  );
  return { ...page, columns: CANCELED_CUSTOMER_COLUMNS };
}

// ---------------------------------------------------------------------------------------------
// GET /v1/metrics/dunning/cases

export const DUNNING_LIST_STATUSES = ["open", "recovered", "final", "canceled"] as const;
export type DunningListStatus = (typeof DUNNING_LIST_STATUSES)[number];

interface DunningCaseRow {
  customer_id: string;
  invoice_id: string;
  cadence: string;
  status: string;
  failed_at: number;
  amount: number | null;
  currency: string | null;
  opened_at: number;
  last_step: string | null;
  closed_at: number | null;
  recovered_at: number | null;
  mrr_saved: number | null;
  recovered_after_step: string | null;
  final_actions: string | null;
  /** Added by migration 0008; read with `SELECT *` so the list works on either side of it. */
  decline_code?: string | null;
  mrr_at_risk?: number | null;
  listed_at: number;
}

export interface DunningCaseItem {
  customer_id: string;
  invoice_id: string;
  cadence: string;
  status: string;
  failed_at: string;
  amount: number | null;
  currency: string | null;
  opened_at: string;
  last_step: string | null;
  closed_at: string | null;
  recovered_at: string | null;
  mrr_saved: number | null;
  recovered_after_step: string | null;
  final_actions: string[] | null;
  decline_code: string | null;
  mrr_at_risk: number | null;
}

const DUNNING_CASE_COLUMNS = columnsOf<DunningCaseItem>([
  "customer_id",
  "invoice_id",
  "cadence",
  "status",
  "failed_at",
  "amount",
  "currency",
  "opened_at",
  "last_step",
  "closed_at",
  "recovered_at",
  "mrr_saved",
  "recovered_after_step",
  "final_actions",
  "decline_code",
  "mrr_at_risk",
]);

/**
 * Dunning cases by the day that puts them in a figure: `recovered` by `recovered_at` (recoveries
 * count in the period they happened), `final` and `canceled` by `closed_at`, `open` (still open) and
 * no status (every case) by `opened_at`. Oldest first on (that time, customer, invoice).
 */
export async function listDunningCases(
  db: D1Database,
  request: PageRequest & { period: CohortPeriod; status: DunningListStatus | null },
): Promise<ListAnswer<DunningCaseItem>> {
  const { start, end } = periodInstants(request.period);
  const time =
    request.status === "recovered"
      ? "recovered_at"
      : request.status === "final" || request.status === "canceled"
        ? "closed_at"
        : "opened_at";
  const params: (string | number | null)[] = [start, end];
  const conditions = [`${time} >= ?1`, `${time} < ?2`];
  if (request.status !== null) {
    params.push(request.status);
    conditions.push(`status = ?${params.length}`);
  }
  if (request.after !== null) {
    params.push(request.after[0]!, request.after[1]!, request.after[2]!);
    const [t, customer, invoice] = [params.length - 2, params.length - 1, params.length];
    conditions.push(
      `${time} >= ?${t}`,
      `(${time}, customer_id, invoice_id) > (?${t}, ?${customer}, ?${invoice})`,
    );
  }
  params.push(request.limit + 1);
  const rows = await allRows<DunningCaseRow>(
    db,
    `SELECT *, ${time} AS listed_at FROM dunning_cases WHERE ${conditions.join(" AND ")}
     ORDER BY ${time}, customer_id, invoice_id LIMIT ?${params.length}`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.listed_at, row.customer_id, row.invoice_id],
    (row): DunningCaseItem => ({
      customer_id: row.customer_id,
      invoice_id: row.invoice_id,
      cadence: row.cadence,
      status: row.status,
      failed_at: iso(row.failed_at)!,
      amount: row.amount,
      currency: row.currency,
      opened_at: iso(row.opened_at)!,
      last_step: row.last_step,
      closed_at: iso(row.closed_at),
      recovered_at: iso(row.recovered_at),
      mrr_saved: row.mrr_saved,
      recovered_after_step: row.recovered_after_step,
      final_actions: row.final_actions === null ? null : (JSON.parse(row.final_actions) as string[]),
      decline_code: row.decline_code ?? null,
      mrr_at_risk: row.mrr_at_risk ?? null,
    }),
  );
  return { ...page, columns: DUNNING_CASE_COLUMNS };
}

// ---------------------------------------------------------------------------------------------
// GET /v1/metrics/decisions/recent

interface RecentDecisionRow {
  id: string;
  customer_id: string;
  context: string;
  reason: string | null;
  offer_key: string | null;
  status: string;
  reason_code: string;
  why: string;
  ruleset_version: string;
  experiment: string | null;
  variant: string | null;
  holdout: number;
  created_at: number;
}

export interface RecentDecisionItem {
  id: string;
  customer_id: string;
  context: string;
  reason: string | null;
  offer_key: string | null;
  status: string;
  reason_code: string;
  why: string;
  ruleset_version: string;
  variant: string | null;
  holdout: boolean;
  created_at: string;
}

const RECENT_DECISION_COLUMNS = columnsOf<RecentDecisionItem>([
  "id",
  "customer_id",
  "context",
  "reason",
  "offer_key",
  "status",
  "reason_code",
  "why",
  "ruleset_version",
  "variant",
  "holdout",
  "created_at",
]);

/** The newest decisions first, by id (ids sort by creation): the primary key, read backwards. */
export async function listRecentDecisions(
  db: D1Database,
  request: PageRequest,
): Promise<ListAnswer<RecentDecisionItem>> {
  const params: (string | number | null)[] = [];
  let where = "";
  if (request.after !== null) {
    params.push(request.after[0]!);
    where = "WHERE id < ?1";
  }
  params.push(request.limit + 1);
  const rows = await allRows<RecentDecisionRow>(
    db,
    `SELECT id, customer_id, context, reason, offer_key, status, reason_code, why, ruleset_version,
       experiment, variant, holdout, created_at
     FROM decisions ${where} ORDER BY id DESC LIMIT ?${params.length}`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.id],
    (row): RecentDecisionItem => ({
      id: row.id,
      customer_id: row.customer_id,
      context: row.context,
      reason: row.reason,
      offer_key: row.offer_key,
      status: row.status,
      reason_code: row.reason_code,
      why: row.why,
      ruleset_version: row.ruleset_version,
      variant: variantLabel(row.experiment, row.variant),
      holdout: row.holdout === 1,
      created_at: iso(row.created_at)!,
    }),
  );
  return { ...page, columns: RECENT_DECISION_COLUMNS };
}

// ---------------------------------------------------------------------------------------------
// GET /v1/metrics/sends/problems

interface ProblemSendRow {
  id: string;
  customer_id: string;
  programme_kind: string;
  programme_key: string;
  step: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  updated_at: number;
}

export interface ProblemSendItem {
  id: string;
  customer_id: string;
  programme_kind: string;
  programme_key: string;
  step: string;
  channel: string;
  status: string;
  attempts: number;
  last_error: string | null;
  updated_at: string;
}

const PROBLEM_SEND_COLUMNS = columnsOf<ProblemSendItem>([
  "id",
  "customer_id",
  "programme_kind",
  "programme_key",
  "step",
  "channel",
  "status",
  "attempts",
  "last_error",
  "updated_at",
]);

/**
 * Any word with an `@` in it, wherever a provider's error message quoted an address: also an
 * invalid one (`jane@gmail`), one cut off where the error was truncated, or one with a space in its
 * local part (the part before the space is dropped with it only when it touches the `@`).
 */
const EMAIL_ADDRESS = /[^\s<>"'(),;:]*@[^\s<>"'(),;:]*/g;

/**
 * Sends that failed (a retry is due) or died, newest first by id: one seek per status on
 * `sends_status_id`, merged. Never the recipient: the column is not read, and an address a
 * provider quoted in `last_error` is replaced by `[address]`.
 */
export async function listProblemSends(
  db: D1Database,
  request: PageRequest,
): Promise<ListAnswer<ProblemSendItem>> {
  const params: (string | number | null)[] = [request.limit + 1];
  const before = request.after === null ? "" : "AND id < ?2";
  if (request.after !== null) params.push(request.after[0]!);
  const seek = (status: string) =>
    `SELECT * FROM (SELECT id, customer_id, programme_kind, programme_key, step, channel, status, attempts,
       last_error, updated_at FROM sends WHERE status = '${status}' ${before} ORDER BY id DESC LIMIT ?1)`;
  const rows = await allRows<ProblemSendRow>(
    db,
    `${seek("failed")} UNION ALL ${seek("dead")} ORDER BY id DESC LIMIT ?1`,
    params,
  );
  const page = pageOf(
    rows,
    request.limit,
    (row) => [row.id],
    (row): ProblemSendItem => ({
      id: row.id,
      customer_id: row.customer_id,
      programme_kind: row.programme_kind,
      programme_key: row.programme_key,
      step: row.step,
      channel: row.channel,
      status: row.status,
      attempts: row.attempts,
      last_error: row.last_error === null ? null : row.last_error.replace(EMAIL_ADDRESS, "[address]"),
      updated_at: iso(row.updated_at)!,
    }),
  );
  return { ...page, columns: PROBLEM_SEND_COLUMNS };
}

/** CSV columns that are the item's own fields, in order, headed by their names. */
export function columnsOf<Item>(names: readonly (keyof Item & string)[]): CsvColumn<Item>[] {
  return names.map((name) => ({
    header: name,
    cell: (item: Item) => {
      const value = item[name] as unknown;
      if (value === undefined || value === null) return null;
      // A list in one cell, space-separated (final actions: "cancel webhook").
      if (Array.isArray(value)) return value.join(" ");
      return value as string | number | boolean;
    },
  }));
}
