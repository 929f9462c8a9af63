// The same set of events gives the same profile whatever order and batching it arrives in.
import { beforeAll, expect, it } from "vitest";
import { prng } from "../prng";
import { ingest, issueKey, profile } from "./helpers";

let writer: string;
let reader: string;
beforeAll(async () => {
  writer = await issueKey(["events:write"]);
  reader = await issueKey(["decisions:read"]);
});

type Stream = { suffix: string; type: string; at: string; properties?: Record<string, unknown> }[];

// Ties on occurred_at are deliberate: latest-wins fields must break them by event id.
const STREAM: Stream = [
  {
    suffix: "01",
    type: "customer.updated",
    at: "2026-01-01T00:00:00Z",
    properties: { email: "a@x.io", country: "US", attributes: { seats: 3, tier: "smb" } },
  },
  {
    suffix: "02",
    type: "customer.updated",
    at: "2026-01-01T00:00:00Z",
    properties: { email: "b@x.io", first_name: "Bo" },
  },
  {
    suffix: "03",
    type: "subscription.started",
    at: "2026-01-02T00:00:00Z",
    properties: { plan: "starter", mrr: 1900, currency: "USD" },
  },
  {
    suffix: "04",
    type: "payment.succeeded",
    at: "2026-01-02T00:00:00Z",
    properties: { invoice_id: "i1", amount: 1900, currency: "USD" },
  },
  { suffix: "05", type: "activity", at: "2026-01-05T00:00:00Z" },
  { suffix: "06", type: "activity", at: "2026-01-09T00:00:00Z", properties: { feature: "export" } },
  {
    suffix: "07",
    type: "order.completed",
    at: "2026-01-10T00:00:00Z",
    properties: { amount: 999, currency: "USD" },
  },
  {
    suffix: "08",
    type: "order.completed",
    at: "2026-01-11T00:00:00Z",
    properties: { amount: 2000, currency: "USD" },
  },
  {
    suffix: "09",
    type: "order.completed",
    at: "2026-01-11T00:00:00Z",
    properties: { amount: 500, currency: "EUR" },
  },
  {
    suffix: "10",
    type: "subscription.changed",
    at: "2026-01-15T00:00:00Z",
    properties: { plan: "pro", mrr: 4900, previous_plan: "starter", previous_mrr: 1900 },
  },
  {
    suffix: "11",
    type: "payment.failed",
    at: "2026-02-02T00:00:00Z",
    properties: {
      invoice_id: "i2",
      amount: 4900,
      currency: "USD",
      decline_code: "expired_card",
      card_last4: "1111",
    },
  },
  {
    suffix: "12",
    type: "payment.failed",
    at: "2026-02-05T00:00:00Z",
    properties: {
      invoice_id: "i2",
      amount: 4900,
      currency: "USD",
      decline_code: "do_not_honor",
      card_last4: "2222",
      update_url: "https://pay.example.com/u/1",
    },
  },
  {
    suffix: "13",
    type: "payment.succeeded",
    at: "2026-02-06T00:00:00Z",
    properties: { invoice_id: "i2", amount: 4900, currency: "USD" },
  },
  {
    suffix: "14",
    type: "payment.failed",
    at: "2026-03-02T00:00:00Z",
    properties: { invoice_id: "i3", amount: 4900, currency: "USD", decline_code: "insufficient_funds" },
  },
  {
    suffix: "15",
    type: "payment.failed",
    at: "2026-03-01T00:00:00Z",
    properties: { invoice_id: "i4", amount: 100, currency: "USD" },
  },
  {
    suffix: "16",
    type: "referral.made",
    at: "2026-02-10T00:00:00Z",
    properties: { referred_customer_id: "r1" },
  },
  {
    suffix: "17",
    type: "referral.made",
    at: "2026-02-11T00:00:00Z",
    properties: { referred_customer_id: "r2" },
  },
  { suffix: "18", type: "nps.submitted", at: "2026-02-12T00:00:00Z", properties: { score: 3 } },
  { suffix: "19", type: "nps.submitted", at: "2026-02-12T00:00:00Z", properties: { score: 9 } },
  { suffix: "20", type: "support.ticket", at: "2026-02-13T00:00:00Z", properties: { status: "opened" } },
  {
    suffix: "21",
    type: "support.ticket",
    at: "2026-02-14T00:00:00Z",
    properties: { status: "resolved", satisfied: false },
  },
  {
    suffix: "22",
    type: "card.expiring",
    at: "2026-02-15T00:00:00Z",
    properties: { expires_at: "2026-03-31" },
  },
  {
    suffix: "23",
    type: "card.expiring",
    at: "2026-02-16T00:00:00Z",
    properties: { expires_at: "2028-01-31T00:00:00Z" },
  },
  {
    suffix: "24",
    type: "customer.updated",
    at: "2026-02-20T00:00:00Z",
    properties: { attributes: { seats: 5, tier: null, source: "ads" } },
  },
  {
    suffix: "25",
    type: "customer.updated",
    at: "2026-02-20T00:00:00Z",
    properties: { attributes: { seats: 7 }, timezone: "America/New_York" },
  },
  {
    suffix: "26",
    type: "subscription.canceled",
    at: "2026-03-10T00:00:00Z",
    properties: { reason: "too_expensive", comment: "budget" },
  },
  {
    suffix: "27",
    type: "subscription.reactivated",
    at: "2026-03-20T00:00:00Z",
    properties: { plan: "starter", mrr: 1900 },
  },
  {
    suffix: "28",
    type: "subscription.canceled",
    at: "2026-03-20T00:00:00Z",
    properties: { reason: "switched_to_competitor" },
  },
  { suffix: "29", type: "x.export", at: "2026-03-21T00:00:00Z", properties: { rows: 10 } },
  { suffix: "30", type: "activity", at: "2026-03-22T00:00:00Z" },
];

function eventsFor(customerId: string) {
  return STREAM.map(({ suffix, type, at, properties }) => ({
    id: `${customerId}-${suffix}`,
    type,
    customer_id: customerId,
    occurred_at: at,
    properties: properties ?? {},
  }));
}

function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

const withoutId = ({ id: _id, ...rest }: Record<string, unknown>) => rest;

it("gives the same profile for 30 shuffled, re-batched and partly resent arrivals of one stream", async () => {
  await ingest(writer, eventsFor("ordered"));
  const expected = withoutId(await profile(reader, "ordered"));

  for (let seed = 1; seed <= 30; seed++) {
    const random = prng(seed);
    const customerId = `shuffled-${seed}`;
    const arrival = shuffle(eventsFor(customerId), random);
    // Resend a few events, as a client retrying after a timeout would.
    arrival.push(...arrival.slice(0, Math.floor(random() * 4)));
    while (arrival.length > 0) {
      await ingest(writer, arrival.splice(0, 1 + Math.floor(random() * 8)));
    }
    expect({ seed, profile: withoutId(await profile(reader, customerId)) }).toEqual({
      seed,
      profile: expected,
    });
  }
});

it("computes the expected values for that stream", async () => {
  await ingest(writer, eventsFor("expected"));
  expect(await profile(reader, "expected")).toMatchObject({
    email: "b@x.io",
    first_name: "Bo",
    plan: "starter",
    mrr: 1900,
    currency: "USD",
    status: "canceled",
    canceled_at: "2026-03-20T00:00:00.000Z",
    churn_reason: "switched_to_competitor",
    churn_comment: null,
    signed_up_at: "2026-01-02T00:00:00.000Z",
    reactivated_at: "2026-03-20T00:00:00.000Z",
    last_active_at: "2026-03-22T00:00:00.000Z",
    order_count: 3,
    order_total: 2999,
    aov: 1500,
    ltv: 1900 + 4900 + 2999,
    referrals: 2,
    nps: 9,
    open_tickets: 0,
    last_ticket_satisfied: 0,
    payment_failed_at: "2026-03-01T00:00:00.000Z",
    failed_invoice_id: "i4",
    failed_amount: 100,
    decline_code: null,
    card_last4: "2222",
    update_url: "https://pay.example.com/u/1",
    card_expires_at: "2028-01-31T00:00:00.000Z",
    timezone: "America/New_York",
    attributes: { seats: 7, source: "ads" },
    first_seen_at: "2026-01-01T00:00:00.000Z",
    last_event_at: "2026-03-22T00:00:00.000Z",
  });
});
