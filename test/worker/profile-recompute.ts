/**
 * The oracle of the profile fold: a full recomputation of profiles from the set of stored events,
 * as one SQL statement (docs/data-model.md defines every column). Until the fold replaced it, ingest
 * ran this statement on every request, reading the customer's whole history each time; it is kept,
 * independent of worker/ingest/profile-fold.ts, for test/worker/profile-fold.test.ts to compare
 * every column of the incremental profile with.
 *
 * Each column is a function of the event *set*, with latest-wins ties broken by (occurred_at, id).
 */

/** Event types as stored; inlined into the SQL below (constants, never user input). */
const T = {
  updated: "'customer.updated'",
  activity: "'activity'",
  order: "'order.completed'",
  started: "'subscription.started'",
  changed: "'subscription.changed'",
  canceled: "'subscription.canceled'",
  reactivated: "'subscription.reactivated'",
  failed: "'payment.failed'",
  succeeded: "'payment.succeeded'",
  cardExpiring: "'card.expiring'",
  referral: "'referral.made'",
  ticket: "'support.ticket'",
  nps: "'nps.submitted'",
} as const;

const prop = (name: string, alias = "e") => `json_extract(${alias}.properties, '$.${name}')`;
const ofCustomer = (alias: string, types: readonly string[]) =>
  `${alias}.customer_id = t.cid AND ${alias}.type IN (${types.join(", ")})`;

/** `expr` of the customer's latest event of `types` (that carries `present`, when given). */
function latest(types: readonly string[], expr: string, present?: string): string {
  const carries = present ? ` AND json_type(e.properties, '$.${present}') IS NOT NULL` : "";
  return `(SELECT ${expr} FROM events e WHERE ${ofCustomer("e", types)}${carries} ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1)`;
}

const latestProp = (types: readonly string[], name: string) => latest(types, prop(name), name);
const epochMs = (isoText: string) => `CAST(round((julianday(${isoText}) - 2440587.5) * 86400000) AS INTEGER)`;
const plans = [T.updated, T.started, T.changed, T.reactivated];

// An invoice is open while it has a failure and no success, whatever order the two arrived in.
const openFailure = `(SELECT f.id FROM events f WHERE ${ofCustomer("f", [T.failed])}
      AND NOT EXISTS (SELECT 1 FROM events s WHERE ${ofCustomer("s", [T.succeeded])}
        AND ${prop("invoice_id", "s")} = ${prop("invoice_id", "f")})
      ORDER BY f.occurred_at, f.id LIMIT 1)`;

// Custom attributes merge key by key, latest value wins; a latest value of null removes the key.
const attributes = `(SELECT json_group_object(key,
        json(CASE kind WHEN 'text' THEN json_quote(value) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE value END))
      FROM (SELECT a.key AS key, a.value AS value, a.type AS kind,
              row_number() OVER (PARTITION BY a.key ORDER BY e.occurred_at DESC, e.id DESC) AS rank
            FROM events e, json_each(e.properties, '$.attributes') a WHERE ${ofCustomer("e", [T.updated])})
      WHERE rank = 1 AND kind <> 'null')`;

const COLUMNS = [
  "id",
  "email",
  "first_name",
  "country",
  "timezone",
  "plan",
  "mrr",
  "currency",
  "status",
  "signed_up_at",
  "canceled_at",
  "churn_reason",
  "churn_comment",
  "reactivated_at",
  "last_active_at",
  "ltv",
  "order_count",
  "order_total",
  "aov",
  "referrals",
  "nps",
  "open_tickets",
  "last_ticket_satisfied",
  "payment_failed_at",
  "failed_invoice_id",
  "failed_amount",
  "decline_code",
  "card_last4",
  "update_url",
  "card_expires_at",
  "attributes",
  "first_seen_at",
  "last_event_at",
] as const;

export const PROFILE_COLUMNS = COLUMNS;

/**
 * Recomputes the profiles of the customers in `?1` (a JSON array of ids) from all their stored
 * events into `table`, a table with the columns of COLUMNS and `id` as its primary key.
 */
export const recomputeProfilesSql = (table: string) => `
WITH
touched AS (
  SELECT ev.customer_id AS cid, min(ev.occurred_at) AS batch_first, max(ev.occurred_at) AS batch_last
  FROM json_each(?1) j JOIN events ev ON ev.customer_id = j.value
  GROUP BY ev.customer_id
),
base AS MATERIALIZED (
  SELECT t.cid,
    ${latestProp([T.updated], "email")} AS email,
    ${latestProp([T.updated], "first_name")} AS first_name,
    ${latestProp([T.updated], "country")} AS country,
    ${latestProp([T.updated], "timezone")} AS timezone,
    ${latestProp(plans, "plan")} AS plan,
    ${latestProp(plans, "mrr")} AS mrr,
    coalesce(${latestProp([T.updated, T.started], "currency")},
             ${latestProp([T.order, T.succeeded, T.failed], "currency")}) AS currency,
    EXISTS (SELECT 1 FROM events e WHERE ${ofCustomer("e", [T.started, T.changed, T.reactivated])}) AS subscribed,
    ${latest([T.started, T.reactivated], "e.occurred_at")} AS start_at,
    ${latest([T.started, T.reactivated], "e.id")} AS start_id,
    ${latest([T.canceled], "e.occurred_at")} AS cancel_at,
    ${latest([T.canceled], "e.id")} AS cancel_id,
    (SELECT min(e.occurred_at) FROM events e WHERE ${ofCustomer("e", [T.started])}) AS signed_up_at,
    (SELECT max(e.occurred_at) FROM events e WHERE ${ofCustomer("e", [T.reactivated])}) AS reactivated_at,
    (SELECT max(e.occurred_at) FROM events e WHERE ${ofCustomer("e", [T.activity])}) AS last_active_at,
    (SELECT count(*) FROM events e WHERE ${ofCustomer("e", [T.order])}) AS order_count,
    (SELECT count(*) FROM events e WHERE ${ofCustomer("e", [T.referral])}) AS referrals,
    ${latest([T.nps], prop("score"))} AS nps,
    (SELECT max(0, coalesce(sum(CASE ${prop("status")} WHEN 'opened' THEN 1 ELSE -1 END), 0))
       FROM events e WHERE ${ofCustomer("e", [T.ticket])}) AS open_tickets,
    (SELECT ${prop("satisfied")} FROM events e WHERE ${ofCustomer("e", [T.ticket])} AND ${prop("status")} = 'resolved'
       ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) AS last_ticket_satisfied,
    ${openFailure} AS failure_id,
    ${latestProp([T.failed], "card_last4")} AS card_last4,
    ${latestProp([T.failed], "update_url")} AS update_url,
    ${epochMs(latest([T.cardExpiring], prop("expires_at")))} AS card_expires_at,
    coalesce(${attributes}, '{}') AS attributes,
    t.batch_first AS first_seen_at,
    t.batch_last AS last_event_at
  FROM touched t
),
money AS MATERIALIZED (
  SELECT b.*,
    (SELECT coalesce(sum(${prop("amount")}), 0) FROM events e
       WHERE e.customer_id = b.cid AND e.type = ${T.order} AND ${prop("currency")} IS b.currency) AS order_total,
    (SELECT count(*) FROM events e
       WHERE e.customer_id = b.cid AND e.type = ${T.order} AND ${prop("currency")} IS b.currency) AS priced_orders,
    -- A success resent under a new event id must not count twice: one amount per invoice.
    (SELECT coalesce(sum(amount), 0) FROM (SELECT max(${prop("amount")}) AS amount FROM events e
       WHERE e.customer_id = b.cid AND e.type = ${T.succeeded} AND ${prop("currency")} IS b.currency
       GROUP BY ${prop("invoice_id")})) AS paid_total,
    b.cancel_at IS NOT NULL AND (b.start_at IS NULL OR (b.cancel_at, b.cancel_id) > (b.start_at, b.start_id)) AS canceled,
    (SELECT ${prop("invoice_id")} FROM events e WHERE e.id = b.failure_id) AS failed_invoice_id
  FROM base b
)
INSERT INTO ${table} (${COLUMNS.join(", ")})
SELECT
  m.cid, m.email, m.first_name, m.country, m.timezone, m.plan, m.mrr, m.currency,
  CASE WHEN m.canceled THEN 'canceled'
       WHEN m.subscribed AND m.failure_id IS NOT NULL THEN 'past_due'
       WHEN m.subscribed THEN 'active'
       ELSE 'lead' END,
  m.signed_up_at,
  CASE WHEN m.canceled THEN m.cancel_at END,
  CASE WHEN m.canceled THEN (SELECT ${prop("reason")} FROM events e WHERE e.id = m.cancel_id) END,
  CASE WHEN m.canceled THEN (SELECT ${prop("comment")} FROM events e WHERE e.id = m.cancel_id) END,
  m.reactivated_at, m.last_active_at,
  m.paid_total + m.order_total,
  m.order_count, m.order_total,
  CASE WHEN m.priced_orders > 0 THEN CAST(round(1.0 * m.order_total / m.priced_orders) AS INTEGER) END,
  m.referrals, m.nps, m.open_tickets, m.last_ticket_satisfied,
  (SELECT e.occurred_at FROM events e WHERE e.id = m.failure_id),
  m.failed_invoice_id,
  (SELECT ${prop("amount")} FROM events e WHERE e.id = m.failure_id),
  (SELECT ${prop("decline_code")} FROM events e WHERE e.customer_id = m.cid AND e.type = ${T.failed}
     AND ${prop("invoice_id")} = m.failed_invoice_id AND json_type(e.properties, '$.decline_code') IS NOT NULL
     ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1),
  m.card_last4, m.update_url, m.card_expires_at, m.attributes, m.first_seen_at, m.last_event_at
FROM money m WHERE true
ON CONFLICT (id) DO UPDATE SET
  ${COLUMNS.filter((column) => column !== "id")
    .map((column) => `${column} = excluded.${column}`)
    .join(",\n  ")}
`;
