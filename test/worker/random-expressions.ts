// Seeded generators for the differential test: random customer rows (with NULLs and wrongly typed
// attributes), random event streams (ties, window edges, future events) and random typed
// expressions written as source text, so a failure prints something a person can paste into a rule.

const DAY = 86_400_000;

export class Random {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** The value, or null with probability p. */
  orNull<T>(p: number, make: () => T): T | null {
    return this.chance(p) ? null : make();
  }
}

export const PLANS = ["basic", "pro", "team"] as const;
const REASONS = ["too_expensive", "switched_to_competitor", "hard_to_use", "unused", "other"];
const STATUSES = ["lead", "active", "past_due", "canceled"];
// USD is the scopes' currency; EUR, GBP, AUD and JPY have exchange rates in the differential
// test's scope with rates, CHF has none.
const CURRENCIES = ["USD", "USD", "EUR", "GBP", "AUD", "JPY", "CHF"];
const COUNTRIES = ["US", "DE", "FR"];
const FEATURES = ["reports", "export", "billing"];
const SIZES = ["small", "medium", "large"];

export interface GeneratedEvent {
  id: string;
  customer_id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  properties: Record<string, unknown>;
}

/** A time near `now`: sometimes exactly on a day boundary, so windows and days_since hit their edges. */
function timeNear(r: Random, now: number): number {
  if (r.chance(0.3)) return now - r.pick([0, 1, 7, 14, 30, 90]) * DAY + r.pick([0, 0, -1, 1]);
  return now - r.int(-20 * DAY, 200 * DAY);
}

function amount(r: Random): unknown {
  return r.pick<unknown>([r.int(0, 100_000), r.int(0, 50) * 1000, 1999.5, "12", null, 50_000, 12_000]);
}

/** One `customers` row shaped like the migration, as D1 would return it (attributes as JSON text). */
export function randomCustomer(r: Random, id: string, now: number): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  if (r.chance(0.7)) attributes.seats = r.pick<unknown>([r.int(0, 50), 2.5, "10", true]);
  if (r.chance(0.7)) attributes.vip = r.pick<unknown>([true, false, 1, "yes"]);
  if (r.chance(0.7)) attributes.company_size = r.pick<unknown>([...SIZES, 3]);
  if (r.chance(0.7)) attributes.renewal_at = r.pick<unknown>([timeNear(r, now), "2026-01-01"]);
  if (r.chance(0.7)) attributes.budget = r.pick<unknown>([r.int(0, 100_000), 50_000, "500"]);
  if (r.chance(0.7)) attributes.trial_length = r.pick<unknown>([14 * DAY, 30 * DAY, r.int(0, 60) * DAY]);
  return {
    id,
    email: r.orNull(0.3, () => `${id}@example.com`),
    first_name: r.orNull(0.3, () => r.pick(["Ada", "Bo", "Cy"])),
    country: r.orNull(0.25, () => r.pick(COUNTRIES)),
    timezone: r.orNull(0.5, () => "Europe/Berlin"),
    plan: r.orNull(0.25, () => r.pick(PLANS)),
    mrr: r.orNull(0.3, () => r.pick([0, 1900, 4900, r.int(0, 20_000)])),
    currency: r.orNull(0.2, () => r.pick(CURRENCIES)),
    status: r.pick(STATUSES),
    signed_up_at: r.orNull(0.25, () => timeNear(r, now)),
    canceled_at: r.orNull(0.4, () => timeNear(r, now)),
    churn_reason: r.orNull(0.4, () => r.pick(REASONS)),
    churn_comment: r.orNull(0.6, () => "too pricey"),
    reactivated_at: r.orNull(0.6, () => timeNear(r, now)),
    last_active_at: r.orNull(0.25, () => timeNear(r, now)),
    ltv: r.pick([0, 50_000, 12_000, r.int(0, 200_000)]),
    order_count: r.int(0, 5),
    order_total: r.pick([0, 12_000, r.int(0, 100_000)]),
    aov: r.orNull(0.3, () => r.pick([12_000, r.int(0, 30_000)])),
    referrals: r.int(0, 3),
    nps: r.orNull(0.3, () => r.int(0, 10)),
    open_tickets: r.int(0, 3),
    last_ticket_satisfied: r.orNull(0.3, () => r.int(0, 1)),
    payment_failed_at: r.orNull(0.5, () => timeNear(r, now)),
    failed_invoice_id: r.orNull(0.5, () => "inv_1"),
    failed_amount: r.orNull(0.5, () => r.pick([1900, 4900])),
    decline_code: r.orNull(0.5, () => r.pick(["insufficient_funds", "expired_card"])),
    card_last4: r.orNull(0.5, () => "4242"),
    update_url: r.orNull(0.5, () => "https://pay.example.com/u"),
    card_expires_at: r.orNull(0.4, () => timeNear(r, now)),
    attributes: JSON.stringify(attributes),
    first_seen_at: now - 400 * DAY,
    last_event_at: now,
  };
}

/** A few events for one customer, with ties in time and events after `now`. */
export function randomEvents(r: Random, customerId: string, now: number): GeneratedEvent[] {
  const events: GeneratedEvent[] = [];
  const count = r.int(0, 9);
  let previous = timeNear(r, now);
  for (let i = 0; i < count; i++) {
    const occurred = r.chance(0.2) ? previous : timeNear(r, now);
    previous = occurred;
    const type = r.pick([
      "activity",
      "activity",
      "order.completed",
      "nps.submitted",
      "support.ticket",
      "x.exported",
    ]);
    const properties: Record<string, unknown> = {};
    if (type === "activity" && r.chance(0.7)) properties.feature = r.pick<unknown>([...FEATURES, 7]);
    if (type === "order.completed") {
      if (r.chance(0.9)) properties.amount = amount(r);
      if (r.chance(0.7)) properties.currency = r.pick<unknown>([...CURRENCIES, 5]);
    }
    if (type === "nps.submitted" && r.chance(0.9))
      properties.score = r.pick<unknown>([r.int(0, 10), 7.5, "9"]);
    if (type === "support.ticket") {
      properties.status = r.pick(["opened", "resolved"]);
      if (r.chance(0.7)) properties.satisfied = r.pick<unknown>([true, false, 1]);
    }
    events.push({
      id: `${customerId}-e${r.int(0, 9)}${i}`,
      customer_id: customerId,
      type,
      occurred_at: occurred,
      received_at: now,
      properties,
    });
  }
  return events;
}

/** Random expressions of each type, as source text. */
export class ExpressionGenerator {
  constructor(private readonly r: Random) {}

  boolean(depth = 3): string {
    const r = this.r;
    const leaf = depth <= 0;
    const choice = r.int(0, leaf ? 7 : 11);
    switch (choice) {
      case 0:
        return `${this.number(depth - 1)} ${this.compareOp()} ${this.number(depth - 1)}`;
      case 1:
        return `${this.money(depth - 1)} ${this.compareOp()} ${this.money(depth - 1)}`;
      case 2:
        return `${this.timestamp(depth - 1)} ${this.compareOp()} ${this.timestamp(depth - 1)}`;
      case 3:
        return `${this.text()} ${r.pick(["==", "!="])} ${this.textLiteralFor()}`;
      case 4: {
        const [field, values] = this.enumField();
        const items = Array.from({ length: r.int(0, 3) }, () => JSON.stringify(r.pick(values)));
        return `${field} ${r.pick(["in", "not in"])} [${items.join(", ")}]`;
      }
      case 5:
        return `${this.number(depth - 1)} ${r.pick(["between", "not between"])} ${this.number(0)} and ${this.number(0)}`;
      case 6: {
        const operand = r.pick([
          () => this.number(depth - 1),
          () => this.money(depth - 1),
          () => this.timestamp(depth - 1),
          () => this.text(),
          () => `(${this.booleanLeaf()})`,
        ])();
        return r.pick([`exists ${operand}`, `${operand} is null`, `${operand} is not null`]);
      }
      case 7:
        return this.booleanLeaf();
      case 8:
        return `not (${this.boolean(depth - 1)})`;
      case 9:
      case 10:
        return `(${this.boolean(depth - 1)}) ${r.pick(["and", "or"])} (${this.boolean(depth - 1)})`;
      default:
        return `${this.money(depth - 1)} between ${this.moneyLiteral()} and ${this.moneyLiteral()}`;
    }
  }

  private booleanLeaf(): string {
    return this.r.pick([
      "last_ticket_satisfied",
      "vip",
      "last(support.ticket.satisfied)",
      "high_value",
      "engaged",
      "true",
      "false",
      "vip == true",
      "last_ticket_satisfied != vip",
      "vip in [true]",
      // Lists the audience scans write out as literals only with `lists: "literal"` (dashes, decimals).
      'country in ["US", "en-GB"]',
      'country not in ["pt-BR", "DE"]',
      "nps in [7, 2.5]",
      "nps not in [-1.5, 3]",
    ]);
  }

  private compareOp(): string {
    return this.r.pick(["==", "!=", "<", "<=", ">", ">="]);
  }

  number(depth: number): string {
    const r = this.r;
    const choice = r.int(0, depth <= 0 ? 3 : 5);
    switch (choice) {
      case 0:
        return r.pick(["order_count", "referrals", "nps", "open_tickets", "seats"]);
      case 1:
        return r.pick(["0", "1", "2", "3", "7", "2.5", "-1", "30", "90"]);
      case 2:
        return r.pick([
          `count(${r.pick(["activity", "order.completed", "x.exported", "nps.submitted"])}${this.window()})`,
          `sum(nps.submitted.score${this.window()})`,
          `last(nps.submitted.score${this.window()})`,
        ]);
      case 3:
        return `${r.pick(["days_since", "days_until"])}(${this.timestampLeaf()})`;
      default:
        return `(${this.number(depth - 1)} ${r.pick(["+", "-", "*", "/"])} ${this.number(depth - 1)})`;
    }
  }

  private window(): string {
    return this.r.pick(["", ", 30d", ", 7d", ", 90d", ", 1d12h", ", 2w"]);
  }

  private moneyLiteral(): string {
    return this.r.pick([
      "$500",
      "$120",
      "$0",
      "$19.99",
      "€500",
      "$49",
      "20 EUR",
      "$1000",
      "£400",
      "30 AUD",
      "65000 JPY",
      "$393.70",
    ]);
  }

  money(depth: number): string {
    const r = this.r;
    const choice = r.int(0, depth <= 0 ? 2 : 4);
    switch (choice) {
      case 0:
        return r.pick(["mrr", "ltv", "aov", "order_total", "failed_amount", "budget"]);
      case 1:
        return this.moneyLiteral();
      case 2:
        return r.pick([
          `sum(order.completed.amount${this.window()})`,
          `last(order.completed.amount${this.window()})`,
        ]);
      case 3:
        return `(${this.money(depth - 1)} ${r.pick(["+", "-"])} ${this.money(depth - 1)})`;
      default:
        return r.pick([
          `(${this.money(depth - 1)} * ${this.number(0)})`,
          `(${this.money(depth - 1)} / ${this.number(0)})`,
          `-${this.money(0)}`,
        ]);
    }
  }

  private timestampLeaf(): string {
    return this.r.pick([
      "canceled_at",
      "last_active_at",
      "signed_up_at",
      "card_expires_at",
      "payment_failed_at",
      "renewal_at",
      "last(activity)",
      "last(order.completed, 30d)",
    ]);
  }

  timestamp(depth: number): string {
    const r = this.r;
    const choice = r.int(0, depth <= 0 ? 2 : 3);
    switch (choice) {
      case 0:
        return this.timestampLeaf();
      case 1:
        return r.pick(["now", "2026-01-01", "2025-12-01T12:00:00Z"]);
      case 2:
        return `now ${r.pick(["-", "+"])} ${r.pick(["30d", "7d", "1d", "90d", "12h", "trial_length"])}`;
      default:
        return `(${this.timestamp(depth - 1)} ${r.pick(["+", "-"])} ${r.pick(["14d", "trial_length", "(2w * 2)"])})`;
    }
  }

  private text(): string {
    return this.r.pick([
      "country",
      "plan",
      "currency",
      "status",
      "churn_reason",
      "first_name",
      "company_size",
      "last(activity.feature)",
      "last(support.ticket.status)",
    ]);
  }

  private textLiteralFor(): string {
    return JSON.stringify(
      this.r.pick([
        "US",
        "DE",
        "pro",
        "basic",
        "USD",
        "active",
        "canceled",
        "too_expensive",
        "Ada",
        "small",
        "reports",
        "resolved",
      ]),
    );
  }

  private enumField(): [string, readonly string[]] {
    return this.r.pick<[string, readonly string[]]>([
      ["plan", PLANS],
      ["status", STATUSES],
      ["churn_reason", REASONS],
      ["country", COUNTRIES],
      ["company_size", SIZES],
    ]);
  }
}
