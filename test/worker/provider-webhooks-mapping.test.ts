// What provider events become: Rebound events through ingest (idempotent, order independent),
// with plans, reasons and MRR mapped by the rules, and every delivery counted.
import { describe, expect, it } from "vitest";
import { call, issueKey, profile } from "./helpers";
import {
  copy,
  deliverChargebee,
  deliverPaddle,
  deliverStripe,
  fixtures,
  stripeEvent,
  stripeSubscription,
} from "./provider-webhooks-fixtures";

const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

describe("Stripe events", () => {
  it("maps a redelivery to nothing new: the second answer is a duplicate", async () => {
    const event = stripeEvent(
      "evt_replay",
      "customer.subscription.created",
      T0,
      stripeSubscription("cus_replay", [{ price: "price_pro_monthly", amount: 4900 }]),
    );
    const first = await deliverStripe(event);
    expect(first.body).toEqual({
      received: true,
      provider_event_id: "evt_replay",
      outcome: "ingested",
      events: 1,
      duplicates: 0,
    });
    const again = await deliverStripe(event);
    expect(again.body).toEqual({
      received: true,
      provider_event_id: "evt_replay",
      outcome: "duplicate",
      events: 0,
      duplicates: 1,
    });
    const customer = await profile(await issueKey(["decisions:read"]), "cus_replay");
    expect([customer.plan, customer.mrr, customer.currency, customer.status]).toEqual([
      "pro",
      4900,
      "USD",
      "active",
    ]);
  });

  it("normalises MRR to a month: yearly /12, quarterly /3, per seat, items summed", async () => {
    const cases = [
      {
        id: "yearly",
        items: [{ price: "price_pro_yearly", amount: 120_000, interval: "year" }],
        mrr: 10_000,
      },
      {
        id: "quarterly",
        items: [{ price: "pro", lookupKey: "pro", amount: 30_000, interval: "month", count: 3 }],
        mrr: 10_000,
      },
      { id: "seats", items: [{ price: "price_pro_monthly", amount: 1_000, quantity: 7 }], mrr: 7_000 },
      {
        id: "summed",
        items: [
          { price: "price_pro_monthly", amount: 4_900 },
          { price: "price_addon_weekly", amount: 1_200, interval: "week" },
        ],
        mrr: 4_900 + 5_200,
      },
    ];
    const reader = await issueKey(["decisions:read"]);
    for (const { id, items, mrr } of cases) {
      const result = await deliverStripe(
        stripeEvent(
          `evt_mrr_${id}`,
          "customer.subscription.created",
          T0,
          stripeSubscription(`cus_mrr_${id}`, items),
        ),
      );
      expect({ id, outcome: result.body.outcome }).toEqual({ id, outcome: "ingested" });
      const customer = await profile(reader, `cus_mrr_${id}`);
      expect({ id, plan: customer.plan, mrr: customer.mrr }).toEqual({ id, plan: "pro", mrr });
    }
  });

  it("acknowledges an unmapped price, holds it for replay instead of storing it, and counts it", async () => {
    const result = await deliverStripe(
      stripeEvent(
        "evt_unmapped",
        "customer.subscription.created",
        T0,
        stripeSubscription("cus_unmapped", [{ price: "price_mystery", amount: 900 }]),
      ),
    );
    expect(result.status).toBe(200);
    expect(result.body.outcome).toBe("unmapped_plan");
    expect(result.body.events).toBe(0);
    expect(result.body.held).toBe(true);
    const ignored = await deliverStripe(
      stripeEvent("evt_unused", "charge.refunded", T0, { id: "ch_1", object: "charge" }),
    );
    expect([ignored.status, ignored.body.outcome]).toEqual([200, "ignored"]);
    const counts = await call("/v1/admin/provider-events?provider=stripe", {
      key: await issueKey(["admin"]),
    });
    expect(counts.status).toBe(200);
    expect(counts.body.provider_events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          provider: "stripe",
          event_type: "customer.subscription.created",
          outcome: "unmapped_plan",
          count: 1,
        }),
        expect.objectContaining({
          provider: "stripe",
          event_type: "charge.refunded",
          outcome: "ignored",
          count: 1,
        }),
      ]),
    );
  });

  it("gives the same profile whether the cancellation arrives before or after the update", async () => {
    const reader = await issueKey(["decisions:read"]);
    const history = (customer: string) => [
      stripeEvent(
        `evt_${customer}_1`,
        "customer.subscription.created",
        T0,
        stripeSubscription(customer, [{ price: "price_starter_monthly", amount: 1900 }]),
      ),
      stripeEvent(
        `evt_${customer}_2`,
        "customer.subscription.updated",
        T0 + 86_400,
        stripeSubscription(customer, [{ price: "price_pro_monthly", amount: 4900 }]),
        { items: stripeSubscription(customer, [{ price: "price_starter_monthly", amount: 1900 }]).items },
      ),
      stripeEvent(`evt_${customer}_3`, "customer.subscription.deleted", T0 + 2 * 86_400, {
        ...stripeSubscription(customer, [{ price: "price_pro_monthly", amount: 4900 }]),
        status: "canceled",
        cancellation_details: { feedback: "switched_service", comment: "cheaper elsewhere" },
      }),
    ];
    for (const event of history("cus_in_order"))
      expect((await deliverStripe(event)).body.outcome).toBe("ingested");
    const [created, updated, deleted] = history("cus_out_of_order");
    for (const event of [deleted, updated, created])
      expect((await deliverStripe(event)).body.outcome).toBe("ingested");
    const inOrder = await profile(reader, "cus_in_order");
    const outOfOrder = await profile(reader, "cus_out_of_order");
    const view = (c: Record<string, unknown>) => ({
      ...c,
      id: undefined,
      created_at: undefined,
      updated_at: undefined,
    });
    expect(view(outOfOrder)).toEqual(view(inOrder));
    expect([inOrder.status, inOrder.churn_reason, inOrder.plan]).toEqual([
      "canceled",
      "switched_to_competitor",
      "pro",
    ]);
  });

  it("answers a too_expensive cancellation with that reason's offer", async () => {
    const customer = "cus_NffrFeUfNV2Hib";
    await deliverStripe(
      stripeEvent(
        "evt_offer_start",
        "customer.subscription.created",
        T0 - 86_400 * 30,
        stripeSubscription(customer, [{ price: "price_pro_monthly", amount: 4900 }]),
      ),
    );
    await deliverStripe(
      stripeEvent("evt_offer_paid", "invoice.paid", T0 - 86_400 * 30, {
        id: "in_offer",
        object: "invoice",
        customer,
        currency: "usd",
        amount_paid: 60_000,
      }),
    );
    const deleted = copy(fixtures.stripeSubscriptionDeleted);
    const result = await deliverStripe(deleted);
    expect(result.body).toMatchObject({ provider_event_id: deleted.id, outcome: "ingested", events: 1 });
    const reader = await issueKey(["decisions:read"]);
    const canceled = await profile(reader, customer);
    expect([canceled.status, canceled.churn_reason]).toEqual(["canceled", "too_expensive"]);
    const decision = await call(`/v1/customers/${customer}/next-offer?context=winback`, { key: reader });
    expect(decision.status).toBe(200);
    expect(["price_high_value", "price_everyone_else"]).toContain(
      decision.body.offer?.key ?? decision.body.offer_key,
    );
  });

  function nowSecondsMinus(seconds: number): number {
    return Math.floor(Date.now() / 1000) - seconds;
  }

  describe("Paddle and Chargebee events", () => {
    it("maps Paddle's published subscription.created: an unmapped price is acknowledged, a mapped one starts the subscription", async () => {
      const published = await deliverPaddle(fixtures.paddleSubscriptionCreated);
      expect(published.body).toMatchObject({ outcome: "unmapped_plan", events: 0 });
      const mapped = copy(fixtures.paddleSubscriptionCreated);
      mapped.event_id = "evt_paddle_mapped";
      mapped.data.items[0]!.price.id = "pro";
      expect((await deliverPaddle(mapped)).body.outcome).toBe("ingested");
      const customer = await profile(await issueKey(["decisions:read"]), mapped.data.customer_id);
      // 10 seats × $32.40 + a $108 add-on.
      expect([customer.plan, customer.mrr, customer.currency]).toEqual(["pro", 32_400 + 10_800, "USD"]);
    });

    it("maps Paddle's subscription.activated (a trial's end) as a start, the same profile as an active creation", async () => {
      const reader = await issueKey(["decisions:read"]);
      const subscription = (customer: string, eventId: string, type: string, status: string) => {
        const event = copy(fixtures.paddleSubscriptionCreated);
        event.event_id = eventId;
        event.event_type = type;
        event.data.status = status;
        event.data.customer_id = customer;
        event.data.items[0]!.price.id = "pro";
        return event;
      };
      const trialing = subscription("ctm_trial_end", "evt_paddle_trial", "subscription.created", "trialing");
      const activated = subscription("ctm_trial_end", "evt_paddle_act", "subscription.activated", "active");
      expect((await deliverPaddle(trialing)).body.outcome).toBe("ingested");
      expect((await deliverPaddle(activated)).body).toMatchObject({ outcome: "ingested", events: 1 });
      const direct = subscription("ctm_direct", "evt_paddle_direct", "subscription.created", "active");
      expect((await deliverPaddle(direct)).body.outcome).toBe("ingested");
      const [afterTrial, created] = [
        await profile(reader, "ctm_trial_end"),
        await profile(reader, "ctm_direct"),
      ];
      expect([afterTrial.plan, afterTrial.mrr, afterTrial.currency, afterTrial.status]).toEqual([
        created.plan,
        created.mrr,
        created.currency,
        "active",
      ]);
      expect(created.status).toBe("active");
      // Redelivered, it is a duplicate like any other event.
      expect((await deliverPaddle(activated)).body.outcome).toBe("duplicate");
    });

    it("maps Paddle's transaction.payment_failed with the decline code and card", async () => {
      const result = await deliverPaddle(fixtures.paddlePaymentFailed);
      expect(result.body.outcome).toBe("ingested");
      const customer = await profile(
        await issueKey(["decisions:read"]),
        fixtures.paddlePaymentFailed.data.customer_id,
      );
      expect(customer.decline_code).toBe("declined");
    });

    it("maps Chargebee's cancel_reason_code through the rules", async () => {
      const result = await deliverChargebee(fixtures.chargebeeCancelled);
      expect(result.body.outcome).toBe("ingested");
      const customer = await profile(await issueKey(["decisions:read"]), "16BPgETyVrQVHGh1");
      expect(customer.churn_reason).toBe("switched_to_competitor");
    });
  });

  // Last: its tick archives old days, after which old-dated events are sealed (docs/ingest.md).
  describe("dunning from a provider", () => {
    it("opens a dunning case for invoice.payment_failed at the next tick", async () => {
      const fixture = copy(fixtures.stripeInvoiceFailed);
      const customer = fixture.data.object.customer;
      fixture.created = nowSecondsMinus(3600);
      await deliverStripe(
        stripeEvent(
          "evt_dun_start",
          "customer.subscription.created",
          fixture.created - 86_400 * 40,
          stripeSubscription(customer, [{ price: "price_pro_monthly", amount: 4900 }]),
        ),
      );
      const failed = await deliverStripe(fixture);
      expect(failed.body.outcome).toBe("ingested");
      const admin = await issueKey(["admin"]);
      const customerView = await profile(admin, customer);
      expect(customerView.status).toBe("past_due");
      const tick = await call("/v1/admin/tick", { key: admin, body: { at: new Date().toISOString() } });
      expect(tick.status).toBe(200);
      const cases = await call(`/v1/admin/dunning-cases?customer_id=${customer}`, { key: admin });
      expect(cases.body.cases).toEqual([
        expect.objectContaining({
          customer_id: customer,
          invoice_id: "in_1MtHbELkdIwHu7ixl4OzzPMv",
          status: "open",
        }),
      ]);
    });
  });
});
