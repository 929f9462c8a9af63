// POST /v1/events and GET /v1/customers/:id: what the app sees when it reports events.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call, event, ingest, issueKey, profile } from "./helpers";

let writer: string;
let reader: string;

beforeAll(async () => {
  writer = await issueKey(["events:write"]);
  reader = await issueKey(["decisions:read"]);
});

describe("ingest", () => {
  it("accepts a single event and a batch", async () => {
    const single = await call("/v1/events", {
      key: writer,
      body: event("activity", "c-single", "2026-03-01T10:00:00Z", { feature: "reports" }),
    });
    expect(single.status).toBe(200);
    expect(single.body).toMatchObject({ accepted: 1, duplicates: 0 });

    const batch = await ingest(writer, [
      event("activity", "c-batch", "2026-03-01T10:00:00Z"),
      event("order.completed", "c-batch", "2026-03-02T10:00:00Z", { amount: 4200, currency: "EUR" }),
    ]);
    expect(batch).toMatchObject({ accepted: 2, duplicates: 0, duplicate_ids: [], conflicting_ids: [] });
    expect(batch.meta.rows_written).toBeGreaterThan(0);
  });

  it("treats a resent event as a duplicate that changes nothing", async () => {
    const events = [
      event("order.completed", "c-dup", "2026-03-02T10:00:00Z", { amount: 1000, currency: "USD" }, "dup-1"),
      event("order.completed", "c-dup", "2026-03-03T10:00:00Z", { currency: "USD", amount: 3000 }, "dup-2"),
    ];
    await ingest(writer, events);
    const before = await profile(reader, "c-dup");

    // Same events, properties in another key order: still the same events.
    const resent = await ingest(writer, [
      { ...events[0], properties: { currency: "USD", amount: 1000 } },
      events[1],
    ]);
    expect(resent).toMatchObject({ accepted: 0, duplicates: 2, duplicate_ids: ["dup-1", "dup-2"] });
    expect(resent.meta.rows_written).toBe(0);
    expect(await profile(reader, "c-dup")).toEqual(before);
    expect(before).toMatchObject({ order_count: 2, order_total: 4000, ltv: 4000, aov: 2000 });
  });

  it("counts a repeat inside one batch as a duplicate", async () => {
    const once = event("referral.made", "c-inner", "2026-03-02T10:00:00Z", {
      referred_customer_id: "c-friend",
    });
    const result = await ingest(writer, [once, once, once]);
    expect(result).toMatchObject({ accepted: 1, duplicates: 2, duplicate_ids: [once.id, once.id] });
    expect((await profile(reader, "c-inner")).referrals).toBe(1);
  });

  it("keeps the first event when an id is reused with other content, and says so", async () => {
    await ingest(writer, [
      event("nps.submitted", "c-conflict", "2026-03-02T10:00:00Z", { score: 9 }, "nps-1"),
    ]);
    const result = await ingest(writer, [
      event("nps.submitted", "c-conflict", "2026-03-02T10:00:00Z", { score: 2 }, "nps-1"),
    ]);
    expect(result).toMatchObject({ accepted: 0, duplicates: 1, conflicting_ids: ["nps-1"] });
    expect((await profile(reader, "c-conflict")).nps).toBe(9);
  });

  it("does not double-count the same event sent by two concurrent requests", async () => {
    const payment = event("payment.succeeded", "c-race", "2026-03-02T10:00:00Z", {
      invoice_id: "in_1",
      amount: 2900,
      currency: "USD",
    });
    const order = event("order.completed", "c-race", "2026-03-03T10:00:00Z", {
      amount: 500,
      currency: "USD",
    });
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        call("/v1/events", { key: writer, body: { events: [payment, order] } }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results.reduce((sum, r) => sum + r.body.accepted, 0)).toBe(2);
    expect(results.reduce((sum, r) => sum + r.body.duplicates, 0)).toBe(10);
    expect(await profile(reader, "c-race")).toMatchObject({ ltv: 3400, order_count: 1, order_total: 500 });
  });

  it("stores custom x.* events and they can be counted", async () => {
    const result = await ingest(writer, [
      event("x.report_exported", "c-custom", "2026-03-01T10:00:00Z", {
        format: "csv",
        rows: 120,
        nested: { a: [1] },
      }),
      event("x.report_exported", "c-custom", "2026-03-02T10:00:00Z", { format: "pdf" }),
      event("x.webinar.attended", "c-custom", "2026-03-03T10:00:00Z"),
    ]);
    expect(result.accepted).toBe(3);
    const counted = await env.DB.prepare(
      "SELECT count(*) AS n FROM events WHERE customer_id = ? AND type = ? AND occurred_at >= ?",
    )
      .bind("c-custom", "x.report_exported", Date.parse("2026-03-01T00:00:00Z"))
      .first<{ n: number }>();
    expect(counted?.n).toBe(2);
    const stored = await env.DB.prepare(
      "SELECT properties FROM events WHERE customer_id = ? ORDER BY occurred_at",
    )
      .bind("c-custom")
      .first<{ properties: string }>();
    expect(JSON.parse(stored!.properties)).toEqual({ format: "csv", nested: { a: [1] }, rows: 120 });
    expect(await profile(reader, "c-custom")).toMatchObject({
      status: "lead",
      last_event_at: "2026-03-03T10:00:00.000Z",
    });
  });

  it("answers 404 with a code for a customer it has never heard of", async () => {
    const result = await call("/v1/customers/nobody", { key: reader });
    expect(result.status).toBe(404);
    expect(result.body.error.code).toBe("customer_not_found");
  });
});

describe("profile aggregates", () => {
  it("derives every column of the data model from the events", async () => {
    const c = "c-full";
    await ingest(writer, [
      event("customer.updated", c, "2026-01-01T00:00:00Z", {
        email: "ada@example.com",
        first_name: "Ada",
        country: "GB",
        timezone: "Europe/London",
        attributes: { company_size: "mid", beta: true, channel: "ads" },
      }),
      event("subscription.started", c, "2026-01-02T00:00:00Z", {
        plan: "starter",
        mrr: 1900,
        currency: "GBP",
      }),
      event("subscription.changed", c, "2026-02-01T00:00:00Z", {
        plan: "pro",
        mrr: 4900,
        previous_plan: "starter",
        previous_mrr: 1900,
      }),
      event("payment.succeeded", c, "2026-01-02T00:00:00Z", {
        invoice_id: "in_1",
        amount: 1900,
        currency: "GBP",
      }),
      event("payment.succeeded", c, "2026-02-01T00:00:00Z", {
        invoice_id: "in_2",
        amount: 4900,
        currency: "GBP",
      }),
      event("order.completed", c, "2026-02-10T00:00:00Z", { amount: 1000, currency: "GBP" }),
      event("order.completed", c, "2026-02-11T00:00:00Z", { amount: 2001, currency: "GBP" }),
      event("activity", c, "2026-02-20T08:00:00Z", { feature: "dashboards" }),
      event("activity", c, "2026-02-25T08:00:00Z"),
      event("referral.made", c, "2026-02-12T00:00:00Z", { referred_customer_id: "c-x" }),
      event("nps.submitted", c, "2026-02-13T00:00:00Z", { score: 4 }),
      event("nps.submitted", c, "2026-02-15T00:00:00Z", { score: 8 }),
      event("support.ticket", c, "2026-02-14T00:00:00Z", { status: "opened" }),
      event("support.ticket", c, "2026-02-16T00:00:00Z", { status: "resolved", satisfied: true }),
      event("support.ticket", c, "2026-02-17T00:00:00Z", { status: "opened" }),
      event("card.expiring", c, "2026-02-18T00:00:00Z", { expires_at: "2026-04-30" }),
      event("customer.updated", c, "2026-02-19T00:00:00Z", {
        attributes: { channel: "referral", beta: null },
      }),
      event("payment.failed", c, "2026-03-01T00:00:00Z", {
        invoice_id: "in_3",
        amount: 4900,
        currency: "GBP",
        decline_code: "insufficient_funds",
        card_last4: "4242",
        update_url: "https://billing.example.com/update",
      }),
      event("payment.failed", c, "2026-03-04T00:00:00Z", {
        invoice_id: "in_3",
        amount: 4900,
        currency: "GBP",
        decline_code: "card_declined",
      }),
    ]);
    expect(await profile(reader, c)).toEqual({
      id: c,
      email: "ada@example.com",
      first_name: "Ada",
      country: "GB",
      timezone: "Europe/London",
      plan: "pro",
      mrr: 4900,
      currency: "GBP",
      status: "past_due",
      signed_up_at: "2026-01-02T00:00:00.000Z",
      canceled_at: null,
      churn_reason: null,
      churn_comment: null,
      reactivated_at: null,
      last_active_at: "2026-02-25T08:00:00.000Z",
      ltv: 1900 + 4900 + 1000 + 2001,
      order_count: 2,
      order_total: 3001,
      aov: 1501,
      referrals: 1,
      nps: 8,
      open_tickets: 1,
      last_ticket_satisfied: 1,
      payment_failed_at: "2026-03-01T00:00:00.000Z",
      failed_invoice_id: "in_3",
      failed_amount: 4900,
      decline_code: "card_declined",
      card_last4: "4242",
      update_url: "https://billing.example.com/update",
      card_expires_at: "2026-04-30T00:00:00.000Z",
      attributes: { company_size: "mid", channel: "referral" },
      first_seen_at: "2026-01-01T00:00:00.000Z",
      last_event_at: "2026-03-04T00:00:00.000Z",
    });
  });

  it("closes a failed invoice when it is paid, even if the payment arrives first", async () => {
    const c = "c-dunning";
    await ingest(writer, [
      event("subscription.started", c, "2026-01-01T00:00:00Z", { plan: "pro", mrr: 4900, currency: "USD" }),
      event("payment.succeeded", c, "2026-03-05T00:00:00Z", {
        invoice_id: "in_9",
        amount: 4900,
        currency: "USD",
      }),
    ]);
    await ingest(writer, [
      event("payment.failed", c, "2026-03-01T00:00:00Z", {
        invoice_id: "in_9",
        amount: 4900,
        currency: "USD",
      }),
    ]);
    expect(await profile(reader, c)).toMatchObject({ status: "active", payment_failed_at: null, ltv: 4900 });
    await ingest(writer, [
      event("payment.failed", c, "2026-04-01T00:00:00Z", {
        invoice_id: "in_10",
        amount: 4900,
        currency: "USD",
      }),
    ]);
    expect(await profile(reader, c)).toMatchObject({
      status: "past_due",
      failed_invoice_id: "in_10",
      payment_failed_at: "2026-04-01T00:00:00.000Z",
    });
  });

  it("counts a payment resent under a new event id once per invoice", async () => {
    const c = "c-invoice-once";
    const paid = { invoice_id: "in_1", amount: 2500, currency: "USD" };
    await ingest(writer, [
      event("payment.succeeded", c, "2026-03-01T00:00:00Z", paid),
      event("payment.succeeded", c, "2026-03-01T00:00:05Z", paid),
    ]);
    expect((await profile(reader, c)).ltv).toBe(2500);
  });

  it("tracks cancellation, its reason, and reactivation", async () => {
    const c = "c-churn";
    await ingest(writer, [
      event("subscription.started", c, "2026-01-01T00:00:00Z", { plan: "pro", mrr: 4900, currency: "USD" }),
      event("subscription.canceled", c, "2026-02-01T00:00:00Z", {
        reason: "too_expensive",
        comment: "pricey",
      }),
    ]);
    expect(await profile(reader, c)).toMatchObject({
      status: "canceled",
      canceled_at: "2026-02-01T00:00:00.000Z",
      churn_reason: "too_expensive",
      churn_comment: "pricey",
      mrr: 4900,
      plan: "pro",
    });
    await ingest(writer, [
      event("subscription.reactivated", c, "2026-03-01T00:00:00Z", { plan: "starter", mrr: 1900 }),
    ]);
    expect(await profile(reader, c)).toMatchObject({
      status: "active",
      canceled_at: null,
      churn_reason: null,
      reactivated_at: "2026-03-01T00:00:00.000Z",
      plan: "starter",
      mrr: 1900,
    });
  });

  it("keeps a customer who only reported activity a lead", async () => {
    await ingest(writer, [event("activity", "c-lead", "2026-03-01T00:00:00Z")]);
    expect(await profile(reader, "c-lead")).toMatchObject({
      status: "lead",
      ltv: 0,
      order_count: 0,
      aov: null,
    });
  });

  it("reads an offset timestamp as the instant it names", async () => {
    await ingest(writer, [event("activity", "c-offset", "2026-03-01T09:30:00+01:00")]);
    expect((await profile(reader, "c-offset")).last_active_at).toBe("2026-03-01T08:30:00.000Z");
  });
});
