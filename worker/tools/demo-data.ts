/**
 * Static demo histories: a few hundred customers with realistic pasts (plans and MRR, invoices,
 * add-on orders, upgrades, cancellations with varied reasons, failed payments, expiring cards,
 * tickets, NPS, referrals, inactivity), as the events an app would have sent. The ingest benchmark
 * (bench/ingest.ts) loads them; `npm start` runs the simulated months of demo-world.ts instead,
 * which shares this file's vocabulary (plans, regions, reasons and their weights).
 *
 * Deterministic: the same seed and anchor give the same events, byte for byte.
 */

/** An event envelope as POST /v1/events takes it. */
export interface DemoEvent {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

export interface DemoOptions {
  /** "Now" of the demo world, epoch ms; histories end before it. */
  anchor: number;
  customers: number;
  seed: number;
}

const DAY = 86_400_000;

export const PLANS = [
  { plan: "starter", mrr: 1900, weight: 5 },
  { plan: "pro", mrr: 4900, weight: 4 },
  { plan: "business", mrr: 14900, weight: 1 },
] as const;

export const REGIONS = [
  { country: "US", timezone: "America/New_York", currency: "USD", weight: 5 },
  { country: "US", timezone: "America/Los_Angeles", currency: "USD", weight: 3 },
  { country: "GB", timezone: "Europe/London", currency: "GBP", weight: 2 },
  { country: "DE", timezone: "Europe/Berlin", currency: "EUR", weight: 2 },
  { country: "FR", timezone: "Europe/Paris", currency: "EUR", weight: 1 },
  { country: "AU", timezone: "Australia/Sydney", currency: "AUD", weight: 1 },
] as const;

export const REASONS = [
  { reason: "too_expensive", weight: 30, comments: ["Budget cuts this quarter", "Cheaper options exist"] },
  { reason: "switched_to_competitor", weight: 15, comments: ["Moved to a tool our parent company uses"] },
  { reason: "technical_issues", weight: 8, comments: ["Dashboards kept timing out"] },
  { reason: "hard_to_use", weight: 8, comments: ["Team never got the hang of it"] },
  { reason: "missing_features", weight: 12, comments: ["Needed SSO", "No Salesforce sync"] },
  { reason: "poor_service", weight: 5, comments: ["Waited a week for support"] },
  { reason: "unused", weight: 12, comments: [] },
  { reason: "shutting_down", weight: 5, comments: ["We are closing the business"] },
  { reason: "other", weight: 5, comments: ["Project ended"] },
] as const;

export const DECLINE_CODES = ["insufficient_funds", "expired_card", "card_declined", "do_not_honor"] as const;
export const FEATURES = ["dashboards", "reports", "exports", "alerts", "integrations", "billing"] as const;
export const FIRST_NAMES = [
  "Ada",
  "Ben",
  "Chloé",
  "Dmitri",
  "Elif",
  "Farah",
  "Gus",
  "Hana",
  "Ivo",
  "Jun",
  "Kemi",
  "Lars",
  "Maya",
  "Nico",
  "Olu",
  "Priya",
  "Quinn",
  "Rosa",
  "Sven",
  "Tara",
  "Uma",
  "Viktor",
  "Wen",
  "Yara",
  "Zoe",
] as const;

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Generates every demo customer's events, grouped by customer (`demo-0001` first) and in time order
 * within a customer.
 */
export function generateDemoEvents(options: DemoOptions): DemoEvent[] {
  const random = prng(options.seed);
  const chance = (p: number) => random() < p;
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = <T extends { weight: number }>(items: readonly T[]): T => {
    let roll = random() * items.reduce((sum, item) => sum + item.weight, 0);
    for (const item of items) {
      roll -= item.weight;
      if (roll < 0) return item;
    }
    return items[items.length - 1]!;
  };

  const all: DemoEvent[] = [];
  for (let n = 1; n <= options.customers; n++) {
    const customerId = `demo-${String(n).padStart(4, "0")}`;
    const events: Omit<DemoEvent, "id" | "customer_id">[] = [];
    const add = (type: string, at: number, properties: Record<string, unknown> = {}) => {
      if (at < options.anchor) events.push({ type, occurred_at: new Date(at).toISOString(), properties });
    };

    const region = weighted(REGIONS);
    const firstName = pick(FIRST_NAMES);
    const createdAt = options.anchor - between(20, 540) * DAY - between(0, DAY - 1);
    add("customer.updated", createdAt, {
      email: `${firstName.toLowerCase().normalize("NFD").replace(/[^\w]/g, "")}.${n}@example.com`,
      first_name: firstName,
      country: region.country,
      timezone: region.timezone,
      attributes: {
        company_size: pick(["solo", "small", "mid", "large"]),
        channel: pick(["ads", "organic", "referral", "partner"]),
      },
    });

    // About one in eight never subscribes: a lead that tried the product.
    if (chance(0.12)) {
      for (let at = createdAt + DAY; at < createdAt + between(2, 14) * DAY; at += between(1, 3) * DAY) {
        add("activity", at, { feature: pick(FEATURES) });
      }
      all.push(
        ...events.map((event, i) => ({ ...event, id: `${customerId}-${i + 1}`, customer_id: customerId })),
      );
      continue;
    }

    let tier = weighted(PLANS);
    let mrr = region.currency === "USD" ? tier.mrr : Math.round(tier.mrr * 0.95);
    const startedAt = createdAt + between(0, 10) * DAY;
    add("subscription.started", startedAt, { plan: tier.plan, mrr, currency: region.currency });

    const fate = random();
    const canceled = fate < 0.28;
    const cancelAt = Math.min(startedAt + between(35, 400) * DAY, options.anchor - between(1, 20) * DAY);
    const lastDay = canceled ? Math.max(startedAt + 2 * DAY, cancelAt) : options.anchor;
    const dunning = !canceled && fate < 0.38;
    const goesQuiet = !canceled && !dunning && chance(0.2);
    const quietSince = options.anchor - between(25, 90) * DAY;

    // Monthly invoices; some months fail first and recover.
    let invoice = 0;
    for (let at = startedAt; at < Math.min(lastDay, options.anchor); at += 30 * DAY) {
      invoice++;
      const invoiceId = `in_${customerId}_${invoice}`;
      const isLast = at + 30 * DAY >= Math.min(lastDay, options.anchor);
      const payment = { invoice_id: invoiceId, amount: mrr, currency: region.currency };
      if (isLast && dunning) {
        const card = {
          card_last4: String(between(1000, 9999)),
          update_url: `https://billing.example.com/update/${customerId}`,
        };
        add("payment.failed", at, { ...payment, decline_code: pick(DECLINE_CODES), ...card });
        if (chance(0.5))
          add("payment.failed", at + 3 * DAY, { ...payment, decline_code: pick(DECLINE_CODES), ...card });
        continue;
      }
      if (chance(0.06)) {
        add("payment.failed", at, {
          ...payment,
          decline_code: pick(DECLINE_CODES),
          card_last4: String(between(1000, 9999)),
        });
        add("payment.succeeded", at + between(1, 4) * DAY, payment);
      } else {
        add("payment.succeeded", at, payment);
      }
      // An upgrade or downgrade now and then.
      if (chance(0.05)) {
        const next = weighted(PLANS);
        if (next.plan !== tier.plan) {
          const nextMrr = region.currency === "USD" ? next.mrr : Math.round(next.mrr * 0.95);
          add("subscription.changed", at + between(2, 20) * DAY, {
            plan: next.plan,
            mrr: nextMrr,
            previous_plan: tier.plan,
            previous_mrr: mrr,
          });
          tier = next;
          mrr = nextMrr;
        }
      }
    }

    // Product use: sparse early on, denser in the last two months, none once quiet or gone.
    const activeUntil = canceled ? lastDay - between(5, 40) * DAY : goesQuiet ? quietSince : options.anchor;
    for (let at = startedAt + DAY; at < activeUntil; ) {
      add("activity", at, { feature: pick(FEATURES) });
      at += (options.anchor - at < 60 * DAY ? between(1, 4) : between(10, 25)) * DAY + between(0, DAY - 1);
    }

    for (let k = between(0, 6) - 2; k > 0; k--) {
      add("order.completed", startedAt + between(5, 300) * DAY, {
        amount: pick([900, 2500, 4900, 12000, 25000]),
        currency: region.currency,
      });
    }
    if (chance(0.12)) {
      for (let k = between(1, 3); k > 0; k--) {
        add("referral.made", startedAt + between(10, 200) * DAY, {
          referred_customer_id: `ref-${customerId}-${k}`,
        });
      }
    }
    if (chance(0.4))
      add("nps.submitted", startedAt + between(30, 200) * DAY, { score: pick([2, 4, 6, 7, 8, 9, 9, 10]) });
    if (chance(0.3)) {
      const openedAt = startedAt + between(5, 300) * DAY;
      add("support.ticket", openedAt, { status: "opened" });
      if (chance(0.8))
        add("support.ticket", openedAt + between(0, 5) * DAY, { status: "resolved", satisfied: chance(0.7) });
    }
    if (chance(0.25))
      add("x.report_exported", startedAt + between(3, 200) * DAY, { format: pick(["csv", "pdf"]) });

    if (canceled) {
      const reason = weighted(REASONS);
      const comment = reason.comments.length > 0 && chance(0.6) ? pick(reason.comments) : undefined;
      add(
        "subscription.canceled",
        lastDay,
        comment ? { reason: reason.reason, comment } : { reason: reason.reason },
      );
      if (chance(0.12)) {
        const back = lastDay + between(20, 120) * DAY;
        add("subscription.reactivated", back, { plan: tier.plan, mrr });
        add("activity", back + DAY, { feature: pick(FEATURES) });
      }
    } else if (chance(0.1)) {
      const expiry = new Date(options.anchor + between(5, 40) * DAY);
      const endOfMonth = Date.UTC(expiry.getUTCFullYear(), expiry.getUTCMonth() + 1, 0);
      add("card.expiring", options.anchor - between(1, 10) * DAY, {
        expires_at: new Date(endOfMonth).toISOString().slice(0, 10),
      });
    }

    events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
    all.push(
      ...events.map((event, i) => ({ ...event, id: `${customerId}-${i + 1}`, customer_id: customerId })),
    );
  }
  return all;
}
