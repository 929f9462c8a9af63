// The incremental profile (ingest folds each new event into the stored state) against the oracle, a
// full recomputation from the stored events (./profile-recompute.ts): random event sets, arriving in
// random orders and batch splits, partly resent, partly in concurrent requests, must leave every
// profile column equal to what the recomputation derives from the same stored events.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { prng } from "../prng";
import { call, ingest, issueKey } from "./helpers";
import { PROFILE_COLUMNS, recomputeProfilesSql } from "./profile-recompute";

let writer: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
  await env.DB.prepare(
    `CREATE TABLE oracle_customers (id TEXT PRIMARY KEY, ${PROFILE_COLUMNS.filter((c) => c !== "id").join(", ")})`,
  ).run();
});

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const chance = (random: Random, p: number) => random() < p;

// Few distinct instants so ties on occurred_at are common; ids include characters above U+FFFF and
// in U+E000-U+FFFF, where UTF-16 and code point order disagree.
const INSTANTS = [
  "2026-01-01T00:00:00Z",
  "2026-01-01T00:00:00Z",
  "2026-01-02T12:00:00Z",
  "2026-01-03T00:00:00Z",
  "2026-02-01T00:00:00.001Z",
  "2026-03-15T08:00:00Z",
];
const ID_PARTS = ["a", "b", "Z", "é", "\u{1F600}", "\uFF21", "0"];
const CURRENCIES = ["USD", "EUR", "GBP"];
const INVOICES = ["in_1", "in_2", "in_3"];
const REASONS = ["too_expensive", "unused", "other", "missing_features"];
const ATTRIBUTES = ["seats", "company_size", "__proto__", "tier", "onboarded_at"];

function attributeValue(random: Random, name: string): unknown {
  if (chance(random, 0.2)) return null;
  if (name === "seats") return Math.floor(random() * 20);
  if (name === "company_size") return pick(random, ["solo", "small", "mid", "large"]);
  if (name === "onboarded_at") return pick(random, INSTANTS);
  return pick(random, ["gold", 3, true, false, 2.5]);
}

function randomProperties(random: Random, type: string): Record<string, unknown> {
  const maybe = (p: number, entries: Record<string, unknown>) => (chance(random, p) ? entries : {});
  switch (type) {
    case "customer.updated": {
      const attributes: Record<string, unknown> = {};
      for (const name of ATTRIBUTES) {
        if (chance(random, 0.3))
          Object.defineProperty(attributes, name, { value: attributeValue(random, name), enumerable: true });
      }
      return {
        ...maybe(0.4, { email: pick(random, ["a@x.io", "b@x.io", null]) }),
        ...maybe(0.3, { first_name: pick(random, ["Ann", "Bo", null]) }),
        ...maybe(0.3, { country: pick(random, ["US", "DE", null]) }),
        ...maybe(0.3, { timezone: pick(random, ["Europe/Berlin", "America/New_York", null]) }),
        ...maybe(0.3, { plan: pick(random, ["starter", "pro", null]) }),
        ...maybe(0.3, { mrr: pick(random, [0, 1900, 4900]), currency: pick(random, CURRENCIES) }),
        ...maybe(0.2, { currency: pick(random, CURRENCIES) }),
        ...(Object.keys(attributes).length > 0 || chance(random, 0.5) ? { attributes } : {}),
      };
    }
    case "activity":
      return maybe(0.5, { feature: pick(random, ["export", "search"]) });
    case "order.completed":
      return { amount: pick(random, [0, 1, 999, 2000, 2501]), currency: pick(random, CURRENCIES) };
    case "subscription.started":
      return {
        plan: pick(random, ["starter", "pro"]),
        mrr: pick(random, [1900, 4900]),
        currency: pick(random, CURRENCIES),
      };
    case "subscription.changed":
      return {
        plan: pick(random, ["pro", "business"]),
        mrr: pick(random, [4900, 9900]),
        ...maybe(0.5, { previous_plan: "starter", previous_mrr: 1900 }),
      };
    case "subscription.reactivated":
      return { plan: "starter", mrr: 1900 };
    case "subscription.canceled":
      return { reason: pick(random, REASONS), ...maybe(0.5, { comment: pick(random, ["budget", "bye"]) }) };
    case "payment.failed":
      return {
        invoice_id: pick(random, INVOICES),
        amount: pick(random, [1900, 4900]),
        currency: pick(random, CURRENCIES),
        ...maybe(0.6, { decline_code: pick(random, ["expired_card", "insufficient_funds"]) }),
        ...maybe(0.5, { card_last4: pick(random, ["1111", "2222"]) }),
        ...maybe(0.4, {
          update_url: pick(random, ["https://pay.example.com/1", "https://pay.example.com/2"]),
        }),
      };
    case "payment.succeeded":
      return {
        invoice_id: pick(random, INVOICES),
        amount: pick(random, [1900, 4900, 5000]),
        currency: pick(random, CURRENCIES),
      };
    case "card.expiring":
      return { expires_at: pick(random, ["2026-03-31", "2027-01-31T10:00:00Z"]) };
    case "referral.made":
      return { referred_customer_id: pick(random, ["r1", "r2"]) };
    case "support.ticket":
      return {
        status: pick(random, ["opened", "resolved"]),
        ...maybe(0.6, { satisfied: chance(random, 0.5) }),
      };
    case "nps.submitted":
      return { score: Math.floor(random() * 11) };
    default:
      return { rows: Math.floor(random() * 5) };
  }
}

const TYPES = [
  "customer.updated",
  "customer.updated",
  "activity",
  "order.completed",
  "subscription.started",
  "subscription.changed",
  "subscription.reactivated",
  "subscription.canceled",
  "payment.failed",
  "payment.failed",
  "payment.succeeded",
  "card.expiring",
  "referral.made",
  "support.ticket",
  "nps.submitted",
  "x.export",
];

interface Event {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

/** `size` random events of `customers`; ids are unique per `customers[0]`. */
function randomHistory(random: Random, customers: readonly string[], size: number): Event[] {
  return Array.from({ length: size }, (_, i) => {
    const type = pick(random, TYPES);
    const id = `${pick(random, ID_PARTS)}${pick(random, ID_PARTS)}-${customers[0]}-${i}`;
    return {
      id,
      type,
      customer_id: pick(random, customers),
      occurred_at: pick(random, INSTANTS),
      properties: randomProperties(random, type),
    };
  });
}

function shuffle<T>(items: readonly T[], random: Random): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** Random batches of the shuffled history, with some events resent in later batches. */
function arrivals(random: Random, history: readonly Event[]): Event[][] {
  const order = shuffle(history, random);
  const batches: Event[][] = [];
  let i = 0;
  while (i < order.length) {
    const size = 1 + Math.floor(random() * 8);
    const batch = order.slice(i, i + size);
    i += size;
    for (const earlier of batches.flat()) if (chance(random, 0.05)) batch.push(earlier);
    batches.push(shuffle(batch, random));
  }
  return batches;
}

async function compareWithOracle(customers: readonly string[], seed: number) {
  await env.DB.prepare("DELETE FROM oracle_customers").run();
  await env.DB.prepare(recomputeProfilesSql("oracle_customers")).bind(JSON.stringify(customers)).run();
  const columns = PROFILE_COLUMNS.join(", ");
  const list = JSON.stringify(customers);
  const incremental = await env.DB.prepare(
    `SELECT ${columns} FROM customers WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
  )
    .bind(list)
    .all<Record<string, unknown>>();
  const oracle = await env.DB.prepare(
    `SELECT ${columns} FROM oracle_customers WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
  )
    .bind(list)
    .all<Record<string, unknown>>();
  const comparable = (row: Record<string, unknown>) => ({
    ...row,
    attributes: JSON.parse(String(row.attributes)),
  });
  expect(incremental.results.map(comparable), `seed ${seed}`).toEqual(oracle.results.map(comparable));

  // The compact daily history, added to request by request, equals a GROUP BY over the stored events
  // (and what migration 0007 derives from stored events: the same latest properties).
  const days = await env.DB.prepare(
    `SELECT customer_id, day, type, currency, count, amount, latest_id, latest FROM event_days
     WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY customer_id, day, type, currency`,
  )
    .bind(list)
    .all();
  const grouped = await env.DB.prepare(
    `SELECT customer_id, day, type, currency, count(*) AS count, sum(amount) AS amount,
            (SELECT id FROM events l WHERE l.customer_id = g.customer_id AND l.type = g.type
               AND l.occurred_at / 86400000 = g.day AND coalesce(json_extract(l.properties, '$.currency'), '') = g.currency
             ORDER BY l.occurred_at DESC, l.id DESC LIMIT 1) AS latest_id,
            -- What migration 0007 keeps of the latest event when it builds the history from stored events.
            (SELECT CASE WHEN l.type LIKE 'subscription.%' THEN json_remove(l.properties, '$.comment')
                         WHEN l.type LIKE 'payment.%' THEN json_remove(l.properties, '$.card_last4', '$.update_url')
                         WHEN l.type = 'customer.updated'
                              AND (json_type(l.properties, '$.plan') IS NOT NULL OR json_type(l.properties, '$.mrr') IS NOT NULL OR json_type(l.properties, '$.currency') IS NOT NULL)
                         THEN json_remove(l.properties, '$.email', '$.first_name', '$.country', '$.timezone', '$.attributes') END
             FROM events l WHERE l.customer_id = g.customer_id AND l.type = g.type
               AND l.occurred_at / 86400000 = g.day AND coalesce(json_extract(l.properties, '$.currency'), '') = g.currency
             ORDER BY l.occurred_at DESC, l.id DESC LIMIT 1) AS latest
     FROM (SELECT customer_id, type, occurred_at / 86400000 AS day, coalesce(json_extract(properties, '$.currency'), '') AS currency,
                  CASE json_type(properties, '$.amount') WHEN 'integer' THEN json_extract(properties, '$.amount') ELSE 0 END AS amount
           FROM events WHERE customer_id IN (SELECT value FROM json_each(?))) g
     GROUP BY customer_id, day, type, currency ORDER BY customer_id, day, type, currency`,
  )
    .bind(list)
    .all();
  expect(days.results, `seed ${seed}`).toEqual(grouped.results);
  return incremental.results.length;
}

describe("the incremental profile equals a full recomputation", () => {
  it("over random histories, orders, batch splits and resends", async () => {
    let compared = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const random = prng(seed);
      const customers = [`s${seed}-a`, `s${seed}-\u{1F600}`];
      const history = randomHistory(random, customers, 10 + Math.floor(random() * 50));
      for (const batch of arrivals(random, history)) {
        const { status, body } = await call("/v1/events", {
          method: "POST",
          key: writer,
          body: { events: batch },
        });
        expect(status, JSON.stringify(body)).toBe(200);
      }
      compared += await compareWithOracle(customers, seed);
    }
    expect(compared).toBeGreaterThanOrEqual(70);
  });

  it("when the batches of one customer arrive in concurrent requests", async () => {
    for (let seed = 101; seed <= 115; seed++) {
      const random = prng(seed);
      const customers = [`c${seed}`];
      const history = randomHistory(random, customers, 40);
      const batches = arrivals(random, history);
      const responses = await Promise.all(
        batches.map((batch) => call("/v1/events", { method: "POST", key: writer, body: { events: batch } })),
      );
      for (const { status, body } of responses) expect(status, JSON.stringify(body)).toBe(200);
      // Every event was accepted exactly once across the racing requests.
      const accepted = responses.reduce((sum, { body }) => sum + body.accepted, 0);
      expect(accepted).toBe(history.length);
      await compareWithOracle(customers, seed);
    }
  });

  it("rebuilds a profile written before fold state existed from its stored events, then folds", async () => {
    const random = prng(7);
    const history = randomHistory(random, ["legacy"], 30);
    await ingest(writer, history.slice(0, 20));
    // A row as the migration leaves it: columns from the old recomputation, no fold state.
    await env.DB.prepare("UPDATE customers SET profile_state = NULL WHERE id = 'legacy'").run();
    await ingest(writer, history.slice(20));
    await compareWithOracle(["legacy"], 7);
  });
});

describe("what one new event costs", () => {
  async function rowsReadForOneMore(customer: string, history: number): Promise<number> {
    for (let start = 0; start < history; start += 500) {
      const batch = Array.from({ length: Math.min(500, history - start) }, (_, i) => ({
        id: `${customer}-${start + i}`,
        type: "activity",
        customer_id: customer,
        occurred_at: new Date(Date.UTC(2026, 0, 1) + (start + i) * 60_000).toISOString(),
      }));
      await ingest(writer, batch);
    }
    const { body } = await call("/v1/events", {
      method: "POST",
      key: writer,
      body: {
        id: `${customer}-next`,
        type: "activity",
        customer_id: customer,
        occurred_at: "2026-06-01T00:00:00Z",
      },
    });
    expect(body.accepted).toBe(1);
    return body.meta.rows_read;
  }

  it("does not grow with the customer's history", async () => {
    const small = await rowsReadForOneMore("short-history", 10);
    const large = await rowsReadForOneMore("long-history", 2000);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(30);
  });
});
