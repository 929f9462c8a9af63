/**
 * Benchmark (not a test): what the metrics reports cost in D1 as history grows, against the real
 * Worker under `wrangler dev` on a local D1. The claim to show (docs/metrics.md, "How it stays
 * cheap"): the reports read from the `metric_days` aggregate (retention, cancellations, offers,
 * dunning) read rows in proportion to what happened in the period, whether 6 or 24 months of history
 * lie before it, and the cohort reports (win-back, campaigns) grow with the period's cohort only.
 *
 * The history is lived through, not written as rows: a synthetic SaaS company whose N customers
 * (`--customers`) arrive at a constant rate over the longest history (24 months by default). Day by
 * day, in time order: the day's events go through `POST /v1/events` (sign-ups, monthly payments,
 * failed payments and their recoveries, upgrades, downgrades, reactivations), customers who mean to
 * cancel ask `POST /v1/decisions` (context `cancel_flow`) at that moment and accept, decline or
 * ignore the offer (`POST /v1/offers/:id/accept|decline`), those who do not stay send their
 * `subscription.canceled`, and a `POST /v1/admin/tick` at the end of the day (three days a week by
 * default, `--tick-days`) runs dunning (cases, steps, final cancellations), win-back, the weekly
 * campaign and the archiver, as the cron would.
 *
 * At 6, 12 and 24 months (`--months`), the database holds exactly that much history and the bench
 * measures, for each report, over the 30 and the 180 days that end that day: rows read and queries
 * (the answer's `cost`) and milliseconds (median of `--repeats` calls). Then, with the server
 * stopped, the baseline in the same process: the same figures computed the naive way, straight from
 * the raw tables through the D1 binding (miniflare's getD1Database), with D1's own rows read:
 *   - retention: paying customers and MRR at the period's start by replaying every customer's
 *     subscription history (`event_days`: the raw events older than the retention are archived)
 *     up to the start, plus the period's subscription events;
 *   - cancellations: the period's `subscription.canceled` days joined to `customers`;
 *   - offers: `decisions` shown in the period, answered in the period, expiring in the period;
 *   - dunning: `dunning_cases` open at the start, opened, recovered and closed in the period.
 * The naive figures are checked against the API's where both count the same thing.
 *
 * Last, what the aggregate costs at ingest: rows written per event for a batch of subscription
 * changes and a batch of cancellations (which fold into `metric_days`) against a batch of `activity`
 * events (which do not), for the same customers, from the ingest answer's `meta`.
 *
 * With a constant arrival rate the paying stock, and so what happens in a period, grows with the
 * history; the bench also prints rows read per unit of the period's volume (cancellations, offer
 * outcomes, case events, targeted cancellations, audience members), which is what older history
 * would move if it cost anything.
 *
 * Usage: npm run bench:metrics [-- --customers 5000 --months 6,12,24 --repeats 5 --sample 200
 *   --tick-days sun,tue,thu --activity 0]
 * `--tick-days all` ticks every day (slower); `--activity N` adds N `activity` events per
 * customer-month (each ends a spell of inactivity, so more nudges follow). The last line printed is a
 * JSON object with every figure.
 */
import { parseArgs } from "node:util";
import { prng } from "../test/prng";
import { applyLocalMigrations, type DevServer, freePort, startDevServer } from "../worker/tools/wrangler-dev";
import { benchStateDir, cleanUp, withDatabase } from "./local-state";

const { values } = parseArgs({
  options: {
    customers: { type: "string", default: "5000" },
    months: { type: "string", default: "6,12,24" },
    repeats: { type: "string", default: "5" },
    sample: { type: "string", default: "200" },
    activity: { type: "string", default: "0" },
    "tick-days": { type: "string", default: "sun,tue,thu" },
  },
});
const CUSTOMERS = Number(values.customers);
const CHECKPOINT_MONTHS = values.months
  .split(",")
  .map(Number)
  .sort((a, b) => a - b);
const REPEATS = Number(values.repeats);
const INGEST_SAMPLE = Number(values.sample);
/** `activity` events per customer-month in the history (each ends a spell of inactivity, so nudges follow). */
const ACTIVITY_PER_MONTH = Number(values.activity);
const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
/**
 * The weekdays the bench ticks on (`all`: every day). A tick costs a few hundred milliseconds under
 * wrangler dev, so the default ticks three times a week: Tuesday and Sunday run the weekly campaign's
 * two steps (a tick catches up one day of occurrences), and no gap exceeds the seven days the
 * win-back scans catch up. Dunning opens a case at the first tick after a failure and runs its final
 * action at the first tick 30 days on.
 */
const TICK_WEEKDAYS = new Set(
  values["tick-days"] === "all"
    ? WEEKDAYS.map((_, index) => index)
    : values["tick-days"].split(",").map((name) => {
        const index = WEEKDAYS.indexOf(name.trim().toLowerCase());
        if (index < 0) throw new Error(`--tick-days: ${name} is not one of ${WEEKDAYS.join(", ")} (or all)`);
        return index;
      }),
);

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const MONTH_DAYS = 365.25 / 12;
const HISTORY_DAYS = Math.round(CHECKPOINT_MONTHS[CHECKPOINT_MONTHS.length - 1]! * MONTH_DAYS);
const PERIODS = [30, 180] as const;
const REPORTS = ["retention", "cancellations", "offers", "dunning", "winback", "campaigns"] as const;
type Report = (typeof REPORTS)[number];
const AGGREGATE_REPORTS = ["retention", "cancellations", "offers", "dunning"] as const;
type AggregateReport = (typeof AGGREGATE_REPORTS)[number];
const MAX_EVENTS_PER_REQUEST = 500;
const DECISION_CONNECTIONS = 4;
/** Attempts of a request that wrangler dev's reload of the Worker interrupted. */
const RELOAD_RETRIES = 10;

/** How the synthetic company behaves: frozen in one place. */
const BEHAVIOUR = Object.freeze({
  /** Share of paying customers who set out to cancel in a month (through the cancel flow or not). */
  cancelIntentPerMonth: 0.035,
  /** Of those, the share who cancel at the billing provider without seeing the cancel flow. */
  directCancelShare: 0.3,
  /** In the cancel flow, offered: accept, decline, otherwise ignore it (and cancel). */
  acceptShare: 0.35,
  declineShare: 0.45,
  upgradePerMonth: 0.02,
  downgradePerMonth: 0.015,
  /** Share of monthly invoices whose payment fails; of those, the share paid within 25 days. */
  failurePerInvoice: 0.06,
  recoveryShare: 0.65,
  /** Share of canceled customers who come back (voluntary, involuntary), and within how many days. */
  reactivateVoluntary: 0.15,
  reactivateInvoluntary: 0.25,
  reactivateWithinDays: 150,
});
const PLANS = [
  { plan: "starter", mrr: 1900 },
  { plan: "pro", mrr: 4900 },
  { plan: "business", mrr: 9900 },
] as const;
const REASONS: readonly (readonly [string, number])[] = [
  ["too_expensive", 25],
  ["switched_to_competitor", 12],
  ["technical_issues", 8],
  ["hard_to_use", 10],
  ["missing_features", 12],
  ["poor_service", 5],
  ["unused", 15],
  ["shutting_down", 6],
  ["other", 7],
];
const DECLINE_CODES = ["insufficient_funds", "expired_card", "do_not_honor", "generic_decline"];

interface BenchEvent {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

/** One customer as the simulation knows it (the Worker's own state is what the reports read). */
interface Customer {
  id: string;
  arrival: number;
  plan: number;
  status: "new" | "active" | "past_due" | "canceled";
  nextBill: number;
  invoices: number;
  events: number;
  openInvoice: string | null;
  failedDay: number;
  recoverDay: number | null;
  reactivateDay: number | null;
}

/** What one tick did and cost. */
interface TickSummary {
  day: string;
  ms: number;
  queries: number;
  rows_read: number;
  errors: number;
  audience: number;
  sent: number;
  archived: number;
}

/** What loading the history did, for the report. */
interface LoadStats {
  events: number;
  ingestRequests: number;
  ingestMs: number;
  decisions: number;
  offers: number;
  accepted: number;
  declined: number;
  ignored: number;
  answerErrors: number;
  cancellations: { flow: number; direct: number; involuntary: number };
  ticks: number;
  tickMs: number;
  tickQueries: number;
  tickRowsRead: number;
  tickSends: number;
  slowestTicks: TickSummary[];
  /** Requests sent again because wrangler dev reloaded the Worker (another session edited a file). */
  reloadRetries: number;
  tickErrors: number;
  decisionMs: number;
}

interface Measured {
  rows_read: number;
  queries: number;
  ms_median: number;
  ms: number[];
  /** Rows read differed between calls (it should not: nothing changes while measuring). */
  rows_read_varied: boolean;
  figures: Record<string, unknown>;
}

interface NaiveMeasured {
  rows_read: number;
  queries: number;
  ms: number;
  figures: Record<string, number>;
}

interface Checkpoint {
  months: number;
  day: string;
  customers_arrived: number;
  tables: Record<string, number>;
  reports: Record<Report, Record<string, Measured>>;
  naive: Record<AggregateReport, Record<string, NaiveMeasured>>;
  agreement: Record<string, { api: number; naive: number; equal: boolean }>;
}

/** The days the reports are measured on: the bench ticks at the end of each, whatever its weekday. */
const CHECKPOINT_DAYS = new Set<number>();

/** Whether the bench ticks at the end of `day` (day 0, 1970-01-01, was a Thursday). */
function isTickDay(day: number): boolean {
  return TICK_WEEKDAYS.has((day + 4) % 7) || CHECKPOINT_DAYS.has(day);
}

function dayIso(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function pad(value: string | number, width: number): string {
  return String(value).padStart(width);
}

/** The simulated company: its customers and the random draws that move them, day by day. */
class Company {
  readonly customers: Customer[] = [];
  private readonly random = prng(20_260_512);
  readonly stats: LoadStats = {
    events: 0,
    ingestRequests: 0,
    ingestMs: 0,
    decisions: 0,
    offers: 0,
    accepted: 0,
    declined: 0,
    ignored: 0,
    answerErrors: 0,
    cancellations: { flow: 0, direct: 0, involuntary: 0 },
    ticks: 0,
    tickMs: 0,
    tickQueries: 0,
    tickRowsRead: 0,
    tickSends: 0,
    slowestTicks: [],
    reloadRetries: 0,
    tickErrors: 0,
    decisionMs: 0,
  };

  constructor(
    readonly firstDay: number,
    count: number,
  ) {
    for (let n = 0; n < count; n++) {
      // A constant arrival rate: the same number of sign-ups in every month of the longest history.
      const arrival = firstDay + Math.floor(((n + this.random()) / count) * HISTORY_DAYS);
      const u = this.random();
      this.customers.push({
        id: `cus_${String(n).padStart(6, "0")}`,
        arrival,
        plan: u < 0.5 ? 0 : u < 0.85 ? 1 : 2,
        status: "new",
        nextBill: 0,
        invoices: 0,
        events: 0,
        openInvoice: null,
        failedDay: 0,
        recoverDay: null,
        reactivateDay: null,
      });
    }
  }

  /** An instant during the working day of `day` (13:00-21:00 UTC: the same local date in New York). */
  private during(day: number): number {
    return day * DAY + 13 * HOUR + Math.floor(this.random() * 8 * HOUR);
  }

  private event(
    customer: Customer,
    type: string,
    at: number,
    properties: Record<string, unknown>,
  ): BenchEvent {
    customer.events += 1;
    return {
      id: `evt_${customer.id}_${customer.events}`,
      type,
      customer_id: customer.id,
      occurred_at: new Date(at).toISOString(),
      properties,
    };
  }

  private pay(customer: Customer, at: number): BenchEvent {
    customer.invoices += 1;
    const plan = PLANS[customer.plan]!;
    return this.event(customer, "payment.succeeded", at, {
      invoice_id: `in_${customer.id}_${customer.invoices}`,
      amount: plan.mrr,
      currency: "USD",
    });
  }

  private reason(): string {
    const total = REASONS.reduce((sum, [, weight]) => sum + weight, 0);
    let pick = this.random() * total;
    for (const [reason, weight] of REASONS) {
      pick -= weight;
      if (pick < 0) return reason;
    }
    return "other";
  }

  /**
   * The day's events (before the cancel flow) and the customers who set out to cancel today:
   * `flow` ask for a decision first, `direct` cancel straight away.
   */
  day(day: number): { events: BenchEvent[]; flow: { customer: Customer; reason: string }[] } {
    const events: BenchEvent[] = [];
    const flow: { customer: Customer; reason: string }[] = [];
    const perDay = (monthly: number) => this.random() < monthly / MONTH_DAYS;
    for (const customer of this.customers) {
      if (customer.arrival > day) break;
      const plan = PLANS[customer.plan]!;
      if (customer.status === "new") {
        const at = this.during(day);
        events.push(
          this.event(customer, "customer.updated", at, {
            email: `${customer.id}@example.com`,
            first_name: "Sam",
          }),
          this.event(customer, "subscription.started", at + MINUTE, {
            plan: plan.plan,
            mrr: plan.mrr,
            currency: "USD",
          }),
          this.pay(customer, at + 2 * MINUTE),
        );
        customer.status = "active";
        customer.nextBill = day + 30;
        continue;
      }
      if (customer.status === "canceled") {
        if (customer.reactivateDay !== day) continue;
        const at = this.during(day);
        events.push(
          this.event(customer, "subscription.reactivated", at, { plan: plan.plan, mrr: plan.mrr }),
          this.pay(customer, at + MINUTE),
        );
        customer.status = "active";
        customer.reactivateDay = null;
        customer.nextBill = day + 30;
        continue;
      }
      if (customer.status === "past_due") {
        if (customer.recoverDay === day) {
          events.push(
            this.event(customer, "payment.succeeded", this.during(day), {
              invoice_id: customer.openInvoice,
              amount: plan.mrr,
              currency: "USD",
            }),
          );
          customer.status = "active";
          customer.openInvoice = null;
          customer.nextBill = customer.failedDay + 30;
          if (customer.nextBill <= day) customer.nextBill = day + 1;
        } else if (day >= customer.failedDay + 30 && isTickDay(day)) {
          // The tick at the end of today runs dunning's final action: a cancellation, reason payment_failed.
          this.cancel(customer, day, BEHAVIOUR.reactivateInvoluntary);
          this.stats.cancellations.involuntary += 1;
        }
        continue;
      }
      if (customer.nextBill === day) {
        customer.nextBill = day + 30;
        if (this.random() < BEHAVIOUR.failurePerInvoice) {
          customer.invoices += 1;
          customer.openInvoice = `in_${customer.id}_${customer.invoices}`;
          events.push(
            this.event(customer, "payment.failed", this.during(day), {
              invoice_id: customer.openInvoice,
              amount: plan.mrr,
              currency: "USD",
              decline_code: DECLINE_CODES[Math.floor(this.random() * DECLINE_CODES.length)],
            }),
          );
          customer.status = "past_due";
          customer.failedDay = day;
          customer.recoverDay =
            this.random() < BEHAVIOUR.recoveryShare ? day + 1 + Math.floor(this.random() * 25) : null;
          continue;
        }
        events.push(this.pay(customer, this.during(day)));
      }
      if (perDay(ACTIVITY_PER_MONTH)) events.push(this.event(customer, "activity", this.during(day), {}));
      const up = perDay(BEHAVIOUR.upgradePerMonth) && customer.plan < PLANS.length - 1;
      const down = !up && perDay(BEHAVIOUR.downgradePerMonth) && customer.plan > 0;
      if (up || down) {
        const before = plan;
        customer.plan += up ? 1 : -1;
        const after = PLANS[customer.plan]!;
        events.push(
          this.event(customer, "subscription.changed", this.during(day), {
            plan: after.plan,
            mrr: after.mrr,
            previous_plan: before.plan,
            previous_mrr: before.mrr,
          }),
        );
      }
      if (perDay(BEHAVIOUR.cancelIntentPerMonth)) flow.push({ customer, reason: this.reason() });
    }
    return { events, flow };
  }

  /** Whether a customer in the cancel flow goes through it (else cancels directly). */
  viaFlow(): boolean {
    return this.random() >= BEHAVIOUR.directCancelShare;
  }

  /** What a customer does with an offer. */
  answer(): "accept" | "decline" | "ignore" {
    const u = this.random();
    return u < BEHAVIOUR.acceptShare
      ? "accept"
      : u < BEHAVIOUR.acceptShare + BEHAVIOUR.declineShare
        ? "decline"
        : "ignore";
  }

  cancel(customer: Customer, day: number, comeBackShare: number): void {
    customer.status = "canceled";
    customer.openInvoice = null;
    customer.recoverDay = null;
    customer.reactivateDay =
      this.random() < comeBackShare
        ? day + 5 + Math.floor(this.random() * BEHAVIOUR.reactivateWithinDays)
        : null;
  }

  cancelEvent(customer: Customer, day: number, reason: string): BenchEvent {
    this.cancel(customer, day, BEHAVIOUR.reactivateVoluntary);
    return this.event(customer, "subscription.canceled", day * DAY + 21 * HOUR + 45 * MINUTE, { reason });
  }

  /** Customers paying now, for the ingest sample. */
  paying(): Customer[] {
    return this.customers.filter((customer) => customer.status === "active");
  }

  nextEvent(customer: Customer, type: string, at: number, properties: Record<string, unknown>): BenchEvent {
    return this.event(customer, type, at, properties);
  }
}

/** The Worker under wrangler dev, and how the bench talks to it. */
class Api {
  constructor(
    readonly server: DevServer,
    private readonly key: string,
  ) {}

  private headers(now?: number): Record<string, string> {
    return {
      authorization: `Bearer ${this.key}`,
      "content-type": "application/json",
      ...(now === undefined ? {} : { "x-rebound-now": new Date(now).toISOString() }),
    };
  }

  /** Requests sent again because wrangler dev reloaded the Worker under them. */
  retries = 0;

  /**
   * One request. wrangler dev reloads the Worker when a file it watches changes (others edit this
   * checkout) and answers a request caught in the reload with a 503; every request the bench sends
   * is safe to send again (events by id, ticks by instant, answers to offers by decision), so it is.
   */
  private async call(method: string, path: string, body: unknown, now?: number) {
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${this.server.url}${path}`, {
          method,
          headers: this.headers(now),
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(300_000),
        });
        const text = await response.text();
        if (response.status !== 503 || !text.includes("restarted") || attempt === RELOAD_RETRIES)
          return { status: response.status, text };
      } catch (error) {
        if (!(error instanceof TypeError) || attempt === RELOAD_RETRIES) throw error;
      }
      this.retries += 1;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }

  /** Posts events in requests of at most 500; the summed `meta` of the answers. */
  async ingest(
    events: readonly BenchEvent[],
  ): Promise<{ rowsRead: number; rowsWritten: number; requests: number }> {
    const total = { rowsRead: 0, rowsWritten: 0, requests: 0 };
    for (let start = 0; start < events.length; start += MAX_EVENTS_PER_REQUEST) {
      const batch = events.slice(start, start + MAX_EVENTS_PER_REQUEST);
      const { status, text } = await this.call("POST", "/v1/events", { events: batch });
      if (status !== 200) throw new Error(`POST /v1/events answered ${status}: ${text.slice(0, 2000)}`);
      const answer = JSON.parse(text) as {
        accepted: number;
        meta: { rows_read: number; rows_written: number };
      };
      if (answer.accepted !== batch.length)
        throw new Error(
          `POST /v1/events accepted ${answer.accepted} of ${batch.length}: ${text.slice(0, 2000)}`,
        );
      total.rowsRead += answer.meta.rows_read;
      total.rowsWritten += answer.meta.rows_written;
      total.requests += 1;
    }
    return total;
  }

  async decide(customerId: string, reason: string, at: number): Promise<{ id: string; offered: boolean }> {
    const { status, text } = await this.call(
      "POST",
      "/v1/decisions",
      { customer_id: customerId, context: "cancel_flow", reason },
      at,
    );
    if (status !== 200) throw new Error(`POST /v1/decisions answered ${status}: ${text.slice(0, 2000)}`);
    const answer = JSON.parse(text) as { decision_id: string; offer: unknown };
    return { id: answer.decision_id, offered: answer.offer !== null };
  }

  async respond(decisionId: string, response: "accept" | "decline", at: number): Promise<boolean> {
    const { status } = await this.call("POST", `/v1/offers/${decisionId}/${response}`, undefined, at);
    return status === 200;
  }

  async tick(at: number): Promise<TickSummary> {
    const started = performance.now();
    const { status, text } = await this.call("POST", "/v1/admin/tick", { at: new Date(at).toISOString() });
    const ms = performance.now() - started;
    if (status !== 200) throw new Error(`POST /v1/admin/tick answered ${status}: ${text.slice(0, 2000)}`);
    const { tick } = JSON.parse(text) as {
      tick: {
        errors: unknown[];
        queries: number;
        rows_read: number;
        campaigns: { sent: number; audience: number }[];
        dunning: { sent: number };
        lifecycle: { sent: number };
        archive: { events: number } | null;
      };
    };
    return {
      day: dayIso(Math.floor(at / DAY)),
      ms: round(ms),
      queries: tick.queries,
      rows_read: tick.rows_read,
      errors: tick.errors.length,
      audience: tick.campaigns.reduce((sum, run) => sum + run.audience, 0),
      sent: tick.campaigns.reduce((sum, run) => sum + run.sent, 0) + tick.dunning.sent + tick.lifecycle.sent,
      archived: tick.archive?.events ?? 0,
    };
  }

  async report(report: Report, from: number, to: number, now: number) {
    const started = performance.now();
    const { status, text } = await this.call(
      "GET",
      `/v1/metrics/${report}?from=${dayIso(from)}&to=${dayIso(to)}`,
      undefined,
      now,
    );
    const ms = performance.now() - started;
    if (status !== 200)
      throw new Error(`GET /v1/metrics/${report} answered ${status}: ${text.slice(0, 2000)}`);
    const answer = JSON.parse(text) as Record<string, unknown> & {
      cost: { queries: number; rows_read: number };
    };
    return { ms, answer };
  }
}

/** Runs `work` over `items` with `connections` requests in flight. */
async function pool<T>(
  items: readonly T[],
  connections: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(connections, items.length) }, worker));
}

/** Cancellations of a day without a tick, sent with the next day's events (one request fewer). */
let deferred: BenchEvent[] = [];

/** Lives through `day`: its events, its cancel flow, its cancellations, its tick (on tick days). */
async function liveDay(api: Api, company: Company, day: number): Promise<void> {
  const stats = company.stats;
  const { events, flow } = company.day(day);
  events.push(...deferred);
  deferred = [];
  let started = performance.now();
  const ingested = await api.ingest(events);
  stats.events += events.length;
  stats.ingestRequests += ingested.requests;
  stats.ingestMs += performance.now() - started;

  started = performance.now();
  const cancellations: BenchEvent[] = [];
  const asks = flow.filter(() => company.viaFlow());
  for (const { customer, reason } of flow) {
    if (!asks.some((ask) => ask.customer === customer)) {
      cancellations.push(company.cancelEvent(customer, day, reason));
      stats.cancellations.direct += 1;
    }
  }
  const answers = new Map<Customer, "accept" | "decline" | "ignore" | "none">();
  for (const ask of asks) answers.set(ask.customer, "none");
  await pool(asks, DECISION_CONNECTIONS, async ({ customer, reason }) => {
    const at = day * DAY + 21 * HOUR + asks.findIndex((ask) => ask.customer === customer) * 5_000;
    const decision = await api.decide(customer.id, reason, at);
    stats.decisions += 1;
    if (!decision.offered) return;
    stats.offers += 1;
    const answer = company.answer();
    answers.set(customer, answer);
    if (answer !== "ignore" && !(await api.respond(decision.id, answer, at + 2 * MINUTE)))
      stats.answerErrors += 1;
  });
  for (const { customer, reason } of asks) {
    const answer = answers.get(customer)!;
    if (answer === "accept") stats.accepted += 1;
    else {
      if (answer === "decline") stats.declined += 1;
      if (answer === "ignore") stats.ignored += 1;
      cancellations.push(company.cancelEvent(customer, day, reason));
      stats.cancellations.flow += 1;
    }
  }
  stats.decisionMs += performance.now() - started;
  if (!isTickDay(day)) {
    deferred = cancellations;
    return;
  }
  started = performance.now();
  const sent = await api.ingest(cancellations);
  stats.events += cancellations.length;
  stats.ingestRequests += sent.requests;
  stats.ingestMs += performance.now() - started;

  started = performance.now();
  const tick = await api.tick(day * DAY + 23 * HOUR);
  stats.tickErrors += tick.errors;
  stats.tickQueries += tick.queries;
  stats.tickRowsRead += tick.rows_read;
  stats.tickSends += tick.sent;
  stats.slowestTicks = [...stats.slowestTicks, tick].sort((a, b) => b.ms - a.ms).slice(0, 3);
  stats.ticks += 1;
  stats.tickMs += performance.now() - started;
}

/** The figures of an answer worth printing beside its cost (and checking against the naive ones). */
function figuresOf(report: Report, answer: Record<string, unknown>): Record<string, unknown> {
  const total = answer.total as Record<string, unknown> | undefined;
  switch (report) {
    case "retention": {
      const customers = total?.customers as Record<string, number>;
      const mrr = total?.mrr as Record<string, number>;
      return {
        customers_start: customers.start,
        customers_end: customers.end,
        mrr_start: mrr.start,
        mrr_end: mrr.end,
        gained: customers.gained,
        lost: customers.lost,
      };
    }
    case "cancellations":
      return { count: total?.count, mrr_lost: total?.mrr_lost };
    case "offers":
      return {
        shown: total?.shown,
        accepted: total?.accepted,
        declined: total?.declined,
        expired: total?.expired,
        withdrawn: total?.withdrawn,
      };
    case "dunning":
      return {
        opened: answer.opened,
        recovered: answer.recovered,
        final: answer.final,
        at_risk: answer.at_risk,
      };
    case "winback":
      return { targeted: answer.targeted, reactivated: answer.reactivated };
    case "campaigns": {
      const campaigns = answer.campaigns as { steps: { variants: { sent: number; held_out: number }[] }[] }[];
      let sent = 0;
      let heldOut = 0;
      for (const campaign of campaigns)
        for (const step of campaign.steps)
          for (const variant of step.variants) {
            sent += variant.sent;
            heldOut += variant.held_out;
          }
      return { campaigns: campaigns.length, sent, held_out: heldOut };
    }
  }
}

/**
 * How much happened in the period, in the units each report counts: movements (customers gained and
 * lost), cancellations, offer outcomes, case events, targeted cancellations, audience members. With a
 * constant arrival rate the paying stock, and so the period's volume, grows with the history; rows
 * read per unit of volume is what shows whether older history costs anything.
 */
function volumeOf(report: Report, figures: Record<string, unknown>): number {
  const n = (name: string) => Number(figures[name] ?? 0);
  switch (report) {
    case "retention":
      return n("gained") + n("lost");
    case "cancellations":
      return n("count");
    case "offers":
      return n("shown") + n("accepted") + n("declined") + n("expired") + n("withdrawn");
    case "dunning":
      return n("opened") + n("recovered") + n("final");
    case "winback":
      return n("targeted");
    case "campaigns":
      return n("sent") + n("held_out");
  }
}

/** Every report over both periods ending on `day`: one warm-up call, then `REPEATS` measured. */
async function measureReports(api: Api, day: number): Promise<Record<Report, Record<string, Measured>>> {
  const now = day * DAY + 23 * HOUR + 30 * MINUTE;
  const reports = {} as Record<Report, Record<string, Measured>>;
  for (const report of REPORTS) {
    reports[report] = {};
    for (const days of PERIODS) {
      const from = day - days + 1;
      await api.report(report, from, day, now);
      const calls = [];
      for (let i = 0; i < REPEATS; i++) calls.push(await api.report(report, from, day, now));
      const first = calls[0]!.answer;
      reports[report][`${days}d`] = {
        rows_read: first.cost.rows_read,
        queries: first.cost.queries,
        ms_median: round(median(calls.map((call) => call.ms))),
        ms: calls.map((call) => round(call.ms, 1)),
        rows_read_varied: calls.some((call) => call.answer.cost.rows_read !== first.cost.rows_read),
        figures: figuresOf(report, first),
      };
    }
  }
  return reports;
}

const SUBSCRIPTION_TYPES =
  "'subscription.started', 'subscription.reactivated', 'subscription.changed', 'subscription.canceled'";

/**
 * The naive statements of each aggregate-backed report over [from, to] (day numbers; every event of
 * the bench happens between 13:00 and 23:59 UTC, so a UTC day is the same date in New York).
 * ?1 = from, ?2 = to (days); ?3, ?4 = the period's first and last instant + 1 (ms).
 */
const NAIVE: Record<AggregateReport, { name: string; sql: string }[]> = {
  retention: [
    {
      // Every customer's subscription history up to the start, replayed: paying when the latest
      // start or reactivation is later than the latest cancellation; MRR from the latest event that set it.
      name: "stock at start",
      sql: `WITH state AS (
          SELECT customer_id,
            max(CASE WHEN type IN ('subscription.started', 'subscription.reactivated') THEN latest_at END) AS began,
            max(CASE WHEN type = 'subscription.canceled' THEN latest_at END) AS ended
          FROM event_days WHERE day < ?1 AND type IN (${SUBSCRIPTION_TYPES})
          GROUP BY customer_id),
        priced AS (
          SELECT customer_id, max(latest_at) AS at, latest ->> '$.mrr' AS mrr FROM event_days
          WHERE day < ?1 AND type IN ('subscription.started', 'subscription.reactivated', 'subscription.changed')
          GROUP BY customer_id)
        SELECT count(*) AS customers, coalesce(sum(p.mrr), 0) AS mrr
        FROM state s JOIN priced p USING (customer_id)
        WHERE s.began IS NOT NULL AND (s.ended IS NULL OR s.ended < s.began)`,
    },
    {
      name: "period's subscription events",
      sql: `SELECT type, count(*) AS n FROM event_days
        WHERE day BETWEEN ?1 AND ?2 AND type IN (${SUBSCRIPTION_TYPES}) GROUP BY type`,
    },
  ],
  cancellations: [
    {
      name: "canceled in period by reason and plan",
      sql: `SELECT e.latest ->> '$.reason' AS reason, c.plan, count(*) AS n, sum(c.mrr) AS mrr
        FROM event_days e JOIN customers c ON c.id = e.customer_id
        WHERE e.day BETWEEN ?1 AND ?2 AND e.type = 'subscription.canceled'
        GROUP BY reason, c.plan`,
    },
  ],
  offers: [
    {
      name: "shown in period",
      sql: `SELECT offer_key, count(*) AS n FROM decisions
        WHERE created_at >= ?3 AND created_at < ?4 AND offer_key IS NOT NULL GROUP BY offer_key`,
    },
    {
      name: "answered in period",
      sql: `SELECT offer_key, status, count(*) AS n FROM decisions
        WHERE responded_at >= ?3 AND responded_at < ?4 GROUP BY offer_key, status`,
    },
    {
      name: "expiring in period",
      sql: `SELECT offer_key, count(*) AS n FROM decisions
        WHERE expires_at >= ?3 AND expires_at < ?4 AND status IN ('outstanding', 'expired') GROUP BY offer_key`,
    },
  ],
  dunning: [
    {
      name: "open at start",
      sql: `SELECT count(*) AS n FROM dunning_cases WHERE opened_at < ?3 AND (closed_at IS NULL OR closed_at >= ?3)`,
    },
    {
      name: "opened in period",
      sql: "SELECT count(*) AS n FROM dunning_cases WHERE opened_at >= ?3 AND opened_at < ?4",
    },
    {
      name: "recovered in period",
      sql: "SELECT count(*) AS n FROM dunning_cases WHERE recovered_at >= ?3 AND recovered_at < ?4",
    },
    {
      name: "closed in period",
      sql: "SELECT status, count(*) AS n FROM dunning_cases WHERE closed_at >= ?3 AND closed_at < ?4 GROUP BY status",
    },
  ],
};

const TABLES = ["customers", "events", "event_days", "metric_days", "decisions", "dunning_cases", "sends"];

/** The naive figures over both periods ending on `day`, and every table's row count. */
async function measureNaive(
  stateDir: string,
  day: number,
): Promise<{ naive: Checkpoint["naive"]; tables: Record<string, number> }> {
  return await withDatabase(stateDir, async (db) => {
    const naive = {} as Checkpoint["naive"];
    for (const report of AGGREGATE_REPORTS) {
      naive[report] = {};
      for (const days of PERIODS) {
        const from = day - days + 1;
        const params = [from, day, from * DAY, (day + 1) * DAY];
        const measured: NaiveMeasured = { rows_read: 0, queries: 0, ms: 0, figures: {} };
        for (const statement of NAIVE[report]) {
          const used = (statement.sql.match(/\?(\d)/g) ?? []).map((p) => Number(p.slice(1)));
          const count = Math.max(...used);
          const started = performance.now();
          const result = await db
            .prepare(statement.sql)
            .bind(...params.slice(0, count))
            .all<Record<string, number>>();
          measured.ms += performance.now() - started;
          measured.rows_read += result.meta.rows_read;
          measured.queries += 1;
          const rows = result.results;
          const sum = (column: string) => rows.reduce((total, row) => total + Number(row[column] ?? 0), 0);
          if (statement.name === "stock at start") {
            measured.figures.customers_start = sum("customers");
            measured.figures.mrr_start = sum("mrr");
          } else if (report === "cancellations") {
            measured.figures.count = sum("n");
          } else if (statement.name === "shown in period") {
            measured.figures.shown = sum("n");
          } else if (statement.name === "opened in period") {
            measured.figures.opened = sum("n");
          } else if (statement.name === "recovered in period") {
            measured.figures.recovered = sum("n");
          }
        }
        measured.ms = round(measured.ms);
        naive[report][`${days}d`] = measured;
      }
    }
    const tables: Record<string, number> = {};
    for (const table of TABLES) {
      const row = await db.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
      tables[table] = row?.n ?? 0;
    }
    return { naive, tables };
  });
}

/** The figures both ways count alike, API against naive, per period. */
function agreement(reports: Checkpoint["reports"], naive: Checkpoint["naive"]): Checkpoint["agreement"] {
  const pairs: [string, AggregateReport, string, string][] = [
    ["retention customers at start", "retention", "customers_start", "customers_start"],
    ["retention MRR at start", "retention", "mrr_start", "mrr_start"],
    ["cancellations", "cancellations", "count", "count"],
    ["offers shown", "offers", "shown", "shown"],
    ["dunning cases opened", "dunning", "opened", "opened"],
    ["dunning cases recovered", "dunning", "recovered", "recovered"],
  ];
  const out: Checkpoint["agreement"] = {};
  for (const days of PERIODS) {
    for (const [label, report, apiName, naiveName] of pairs) {
      const api = Number(reports[report][`${days}d`]!.figures[apiName]);
      const other = Number(naive[report][`${days}d`]!.figures[naiveName]);
      out[`${label} (${days}d)`] = { api, naive: other, equal: api === other };
    }
  }
  return out;
}

/** Ingest's cost per event: subscription changes and cancellations (metric fold) against activity. */
async function ingestCost(api: Api, company: Company, day: number) {
  const sample = company.paying().slice(0, INGEST_SAMPLE);
  const base = day * DAY + 23 * HOUR + 40 * MINUTE;
  const batches: Record<string, BenchEvent[]> = {
    activity: sample.map((customer) => company.nextEvent(customer, "activity", base, {})),
    "subscription.changed": sample.map((customer) => {
      const plan = PLANS[Math.min(customer.plan + 1, PLANS.length - 1)]!;
      return company.nextEvent(customer, "subscription.changed", base + MINUTE, {
        plan: plan.plan,
        mrr: plan.mrr + 100,
      });
    }),
    "subscription.canceled": sample.map((customer) =>
      company.nextEvent(customer, "subscription.canceled", base + 2 * MINUTE, { reason: "too_expensive" }),
    ),
  };
  const out: Record<string, { events: number; rows_written_per_event: number; rows_read_per_event: number }> =
    {};
  for (const [type, events] of Object.entries(batches)) {
    const cost = await api.ingest(events);
    out[type] = {
      events: events.length,
      rows_written_per_event: round(cost.rowsWritten / events.length, 3),
      rows_read_per_event: round(cost.rowsRead / events.length, 3),
    };
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  // The history ends the day before yesterday (UTC), so every tick is in the past.
  const lastDay = Math.floor(Date.now() / DAY) - 2;
  const firstDay = lastDay - HISTORY_DAYS + 1;
  const checkpoints = CHECKPOINT_MONTHS.map((months) => ({
    months,
    day: firstDay + Math.round(months * MONTH_DAYS) - 1,
  }));
  for (const checkpoint of checkpoints) CHECKPOINT_DAYS.add(checkpoint.day);
  const company = new Company(firstDay, CUSTOMERS);
  const persistTo = benchStateDir("metrics");
  const key = `bench-${crypto.randomUUID()}`;
  const start = async () =>
    new Api(
      await startDevServer({ port: await freePort(), persistTo, secrets: { REBOUND_ADMIN_KEY: key } }),
      key,
    );
  console.log(
    `metrics: ${CUSTOMERS} customers arriving over ${HISTORY_DAYS} days (${dayIso(firstDay)} to ${dayIso(lastDay)}), ` +
      `checkpoints at ${CHECKPOINT_MONTHS.join(", ")} months`,
  );
  await applyLocalMigrations({ persistTo, quiet: true });
  let api = await start();
  const results: Checkpoint[] = [];
  let ingest: Awaited<ReturnType<typeof ingestCost>> | null = null;
  let day = firstDay;
  for (const checkpoint of checkpoints) {
    for (; day <= checkpoint.day; day++) {
      await liveDay(api, company, day);
      if ((day - firstDay + 1) % 60 === 0)
        console.log(
          `  day ${day - firstDay + 1}/${HISTORY_DAYS}: ${company.stats.events} events (${round(company.stats.ingestMs / 1000, 1)} s), ` +
            `${company.stats.decisions} decisions (${round(company.stats.decisionMs / 1000, 1)} s), ` +
            `${company.stats.ticks} ticks (${round(company.stats.tickMs / 1000, 1)} s, ${company.stats.tickSends} sends), ` +
            `${round((performance.now() - started) / 1000, 1)} s`,
        );
    }
    const reports = await measureReports(api, checkpoint.day);
    const last = checkpoint === checkpoints[checkpoints.length - 1];
    // On the next day, after the last period: the sample's events change none of the figures measured.
    if (last) ingest = await ingestCost(api, company, checkpoint.day + 1);
    company.stats.reloadRetries += api.retries;
    await api.server.stop();
    const { naive, tables } = await measureNaive(persistTo, checkpoint.day);
    results.push({
      months: checkpoint.months,
      day: dayIso(checkpoint.day),
      customers_arrived: company.customers.filter((customer) => customer.arrival <= checkpoint.day).length,
      tables,
      reports,
      naive,
      agreement: agreement(reports, naive),
    });
    console.log(
      `checkpoint ${checkpoint.months} months (${dayIso(checkpoint.day)}): ${JSON.stringify(tables)}, ` +
        `${round((performance.now() - started) / 1000, 1)} s`,
    );
    if (!last) api = await start();
  }
  printResults(results, company.stats, ingest!, started);
}

function printResults(
  results: Checkpoint[],
  stats: LoadStats,
  ingest: Awaited<ReturnType<typeof ingestCost>>,
  started: number,
): void {
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const ratios: Record<string, Record<string, number | null>> = {};
  const naiveRatios: Record<string, Record<string, number | null>> = {};
  const savings: Record<string, Record<string, number | null>> = {};
  const share = (a: number, b: number) => (b === 0 ? null : round(a / b, 3));
  for (const report of REPORTS) {
    ratios[report] = {};
    for (const days of PERIODS)
      ratios[report][`${days}d`] = share(
        last.reports[report][`${days}d`]!.rows_read,
        first.reports[report][`${days}d`]!.rows_read,
      );
  }
  const perVolume: Record<string, Record<string, number | null>> = {};
  for (const report of REPORTS) {
    perVolume[report] = {};
    for (const days of PERIODS)
      for (const result of results) {
        const measured = result.reports[report][`${days}d`]!;
        perVolume[report][`${result.months}m ${days}d`] = share(
          measured.rows_read,
          volumeOf(report, measured.figures),
        );
      }
  }
  for (const report of AGGREGATE_REPORTS) {
    naiveRatios[report] = {};
    savings[report] = {};
    for (const days of PERIODS) {
      naiveRatios[report][`${days}d`] = share(
        last.naive[report][`${days}d`]!.rows_read,
        first.naive[report][`${days}d`]!.rows_read,
      );
      for (const result of results)
        savings[report][`${result.months}m ${days}d`] = share(
          result.reports[report][`${days}d`]!.rows_read,
          result.naive[report][`${days}d`]!.rows_read,
        );
    }
  }

  console.log("");
  console.log(
    `loaded: ${stats.events} events in ${stats.ingestRequests} ingest requests (${round(stats.ingestMs / 1000, 1)} s), ` +
      `${stats.decisions} cancel-flow decisions (${stats.offers} offers: ${stats.accepted} accepted, ${stats.declined} declined, ` +
      `${stats.ignored} ignored; ${round(stats.decisionMs / 1000, 1)} s), cancellations ${JSON.stringify(stats.cancellations)}, ` +
      `${stats.ticks} ticks (${round(stats.tickMs / 1000, 1)} s, ${stats.tickQueries} queries, ${stats.tickRowsRead} rows read, ` +
      `${stats.tickSends} sends, ${stats.tickErrors} programme errors; slowest ${JSON.stringify(stats.slowestTicks[0] ?? null)}), ` +
      `${stats.reloadRetries} requests sent again after a reload of the Worker`,
  );
  console.log("");
  console.log("rows read / queries / median ms per report (API), and the naive baseline's rows read");
  const head = ["report", "period", ...results.map((result) => `${result.months}m`)];
  console.log(
    `${pad(head[0]!, 14)} ${pad(head[1]!, 6)} ${results.map((r) => pad(`${r.months}m api`, 22)).join(" ")}   ${results.map((r) => pad(`${r.months}m naive`, 12)).join(" ")}   ${pad(`${last.months}m/${first.months}m`, 9)}`,
  );
  for (const report of REPORTS) {
    for (const days of PERIODS) {
      const cells = results.map((result) => {
        const m = result.reports[report][`${days}d`]!;
        return pad(`${m.rows_read} / ${m.queries} / ${m.ms_median}`, 22);
      });
      const naiveCells = results.map((result) =>
        pad(
          report in result.naive ? result.naive[report as AggregateReport][`${days}d`]!.rows_read : "-",
          12,
        ),
      );
      console.log(
        `${pad(report, 14)} ${pad(`${days}d`, 6)} ${cells.join(" ")}   ${naiveCells.join(" ")}   ${pad(ratios[report]![`${days}d`] ?? "-", 9)}`,
      );
    }
  }
  console.log("");
  for (const report of AGGREGATE_REPORTS) {
    console.log(
      `${report}: naive rows read ${last.months}m/${first.months}m ${JSON.stringify(naiveRatios[report])}; ` +
        `aggregate/naive ${JSON.stringify(savings[report])}`,
    );
  }
  console.log("");
  console.log(
    "rows read per unit of the period's volume (movements, cancellations, offer outcomes, case events, targeted, audience):",
  );
  for (const report of REPORTS) console.log(`  ${pad(report, 13)} ${JSON.stringify(perVolume[report])}`);
  console.log("");
  console.log("the period's cohort (what the cohort reports' rows read follow):");
  for (const result of results) {
    const cohort = (report: Report, days: number) =>
      JSON.stringify(result.reports[report][`${days}d`]!.figures);
    console.log(
      `  ${result.months}m: winback 30d ${cohort("winback", 30)}, 180d ${cohort("winback", 180)}; ` +
        `campaigns 30d ${cohort("campaigns", 30)}, 180d ${cohort("campaigns", 180)}; ` +
        `cancellations 30d ${cohort("cancellations", 30)}, 180d ${cohort("cancellations", 180)}`,
    );
  }
  console.log("");
  const disagreements: string[] = [];
  for (const result of results)
    for (const [label, pair] of Object.entries(result.agreement))
      if (!pair.equal) disagreements.push(`${result.months}m ${label}: api ${pair.api}, naive ${pair.naive}`);
  console.log(
    `API figures against the naive ones (${Object.keys(last.agreement).length} per checkpoint): ` +
      (disagreements.length === 0 ? "all equal" : `differ: ${disagreements.join("; ")}`),
  );
  console.log(
    `ingest, rows written / read per event (${INGEST_SAMPLE} customers each): ` +
      Object.entries(ingest)
        .map(([type, cost]) => `${type} ${cost.rows_written_per_event} / ${cost.rows_read_per_event}`)
        .join(", ") +
      `; the metric fold adds ${round(ingest["subscription.changed"]!.rows_written_per_event - ingest.activity!.rows_written_per_event, 3)} (change) ` +
      `and ${round(ingest["subscription.canceled"]!.rows_written_per_event - ingest.activity!.rows_written_per_event, 3)} (cancellation) rows written over activity`,
  );
  const seconds = round((performance.now() - started) / 1000, 1);
  console.log(`total ${seconds} s`);
  console.log(
    JSON.stringify({
      bench: "metrics",
      transport: "HTTP to wrangler dev (local D1 in workerd); naive baseline through miniflare's D1 binding",
      customers: CUSTOMERS,
      history_days: HISTORY_DAYS,
      activity_per_month: ACTIVITY_PER_MONTH,
      repeats: REPEATS,
      seconds,
      load: {
        events: stats.events,
        ingest_requests: stats.ingestRequests,
        ingest_seconds: round(stats.ingestMs / 1000, 1),
        decisions: stats.decisions,
        offers: stats.offers,
        accepted: stats.accepted,
        declined: stats.declined,
        ignored: stats.ignored,
        answer_errors: stats.answerErrors,
        cancellations: stats.cancellations,
        ticks: stats.ticks,
        tick_seconds: round(stats.tickMs / 1000, 1),
        tick_errors: stats.tickErrors,
        tick_queries: stats.tickQueries,
        tick_rows_read: stats.tickRowsRead,
        tick_sends: stats.tickSends,
        slowest_ticks: stats.slowestTicks,
        tick_weekdays: [...TICK_WEEKDAYS].map((index) => WEEKDAYS[index]),
        reload_retries: stats.reloadRetries,
      },
      checkpoints: results,
      ratio_rows_read_last_over_first: ratios,
      rows_read_per_period_volume: perVolume,
      naive_ratio_rows_read_last_over_first: naiveRatios,
      aggregate_over_naive_rows_read: savings,
      ingest,
    }),
  );
}

main()
  .then(() => cleanUp())
  .catch(async (error: unknown) => {
    console.error(error);
    await cleanUp();
    process.exit(1);
  });
