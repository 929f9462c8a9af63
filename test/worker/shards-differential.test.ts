// One shard against four: the same seeded workload (about 150 customers over three simulated months:
// sign-ups, plan changes, renewals, failed payments and recoveries, cancellations with reasons and
// the cancel flow's offers, reactivations, activity) goes through the API of a deployment on one D1
// database and of one on four, with the same ticks and the same send deliveries. Every answer a user
// reads must be the same: profiles, decisions, sends, every metric and list, the campaign runs and
// the ticks' figures. Only generated ids, wall-clock times and query costs are normalised away.
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { generateApiKey } from "../../worker/auth/keys";
import { allShards, placedShard } from "../../worker/db/shards";
import { deployedRuleset } from "../../worker/deployed-ruleset";
import type { Env } from "../../worker/env";
import { ruleset as deployedIr } from "../../worker/generated/ruleset";
import worker from "../../worker/index";
import { consumeSends } from "../../worker/sends/consume";
import { prng } from "../prng";
import { databasesOf, issueKeyOnEvery, shardedEnv, spareDatabase } from "./shard-env";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON responses loosely and assert on them
type Json = any;

const SEED = 20_261_204;
const CUSTOMERS = 150;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/**
 * The first simulated day. Years after the wall clock, as in the tick tests; the whole run fits in
 * the rules' 90-day event retention, so the archiver (one R2 bucket for both deployments) has
 * nothing to move.
 */
const START = Date.parse("2031-03-03T00:00:00Z");
const DAYS = 84;
/** The tick runs every TICK_EVERY days at 15:00 UTC (10:00 or 11:00 in New York). */
const TICK_EVERY = 3;
const TICK_HOUR = 15;
/** At most this many events per POST /v1/events, so every batch mixes customers of every shard. */
const BATCH_SIZE = 80;
/** Sends per consumed batch (wrangler.toml's max_batch_size). */
const QUEUE_BATCH = 25;

const PLANS = [
  { plan: "starter", mrr: 1900 },
  { plan: "pro", mrr: 4900 },
  { plan: "business", mrr: 19_900 },
] as const;
const CURRENCIES = ["USD", "USD", "EUR", "GBP", "AUD"] as const;
const TIMEZONES = [
  "America/New_York",
  "Europe/London",
  "Europe/Berlin",
  "Australia/Sydney",
  "America/Los_Angeles",
];
const REASONS = [
  "too_expensive",
  "switched_to_competitor",
  "technical_issues",
  "hard_to_use",
  "missing_features",
  "poor_service",
  "unused",
  "shutting_down",
  "other",
] as const;
const DECLINE_CODES = ["insufficient_funds", "card_declined", "expired_card", "do_not_honor"];
const FEATURES = ["reports", "exports", "dashboards", "alerts"];

// ----------------------------------------------------------------------------------------------
// The workload: a seeded plan of what every customer does, day by day. Pure data, built once and
// replayed identically against both deployments.

interface PlannedEvent {
  id: string;
  type: string;
  customer_id: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

/** A customer in the cancel flow: asks for an offer, then takes it or cancels. */
interface CancelFlow {
  customerId: string;
  reason: (typeof REASONS)[number];
  at: number;
  accepts: boolean;
  /** The cancellation sent when the offer is not taken (or none is shown). */
  cancellation: PlannedEvent;
}

interface Day {
  events: PlannedEvent[];
  /** In-app offer requests (no reason), made before the day's cancel flows. */
  inApp: { customerId: string; at: number }[];
  cancelFlows: CancelFlow[];
}

interface Workload {
  days: Day[];
  customerIds: string[];
}

/** A small seeded random source over test/prng.ts. */
class Dice {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** A moment within the day `day`, between `fromHour` and `toHour` UTC. */
  time(day: number, fromHour: number, toHour: number): number {
    return START + day * DAY + fromHour * HOUR + this.int((toHour - fromHour) * 60) * 60_000;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds the whole run's plan: every customer's life, as events and cancel-flow moments per day. */
function planWorkload(seed: number): Workload {
  const dice = new Dice(seed);
  const days: Day[] = Array.from({ length: DAYS }, () => ({ events: [], inApp: [], cancelFlows: [] }));
  const customerIds: string[] = [];
  let sequence = 0;
  const emit = (
    day: number,
    type: string,
    customerId: string,
    at: number,
    properties: Record<string, unknown>,
  ) => {
    sequence += 1;
    const event = { id: `ev_${sequence}`, type, customer_id: customerId, occurred_at: iso(at), properties };
    days[day]?.events.push(event);
    return event;
  };

  for (let n = 0; n < CUSTOMERS; n += 1) {
    const customerId = `cus_${String(n).padStart(3, "0")}_${dice.int(1_000_000)}`;
    customerIds.push(customerId);
    const signup = dice.int(45);
    const currency = dice.pick(CURRENCIES);
    let plan = dice.pick(PLANS);
    emit(signup, "customer.updated", customerId, dice.time(signup, 0, 2), {
      email: `${customerId}@example.com`,
      first_name: `Name${n}`,
      country: dice.pick(["US", "GB", "DE", "AU"]),
      ...(dice.chance(0.7) ? { timezone: dice.pick(TIMEZONES) } : {}),
      attributes: { seats: 1 + dice.int(20), company_size: dice.pick(["solo", "small", "mid", "large"]) },
    });
    emit(signup, "subscription.started", customerId, dice.time(signup, 2, 4), {
      plan: plan.plan,
      mrr: plan.mrr,
      currency,
    });
    let canceled = false;
    let invoice = 0;
    const activityRate = dice.pick([0.05, 0.2, 0.5, 0.9]);
    for (let day = signup; day < DAYS; day += 1) {
      // Renewals every 30 days from the sign-up, a share of them failing first.
      if (!canceled && (day - signup) % 30 === 0) {
        invoice += 1;
        const invoiceId = `in_${customerId}_${invoice}`;
        const payment = { invoice_id: invoiceId, amount: plan.mrr, currency };
        if (dice.chance(0.2)) {
          emit(day, "payment.failed", customerId, dice.time(day, 4, 6), {
            ...payment,
            decline_code: dice.pick(DECLINE_CODES),
            update_url: `https://billing.example.com/${customerId}`,
          });
          const recoveredAfter = dice.pick([1, 4, 9, 20, 40]);
          if (day + recoveredAfter < DAYS && recoveredAfter < 30)
            emit(
              day + recoveredAfter,
              "payment.succeeded",
              customerId,
              dice.time(day + recoveredAfter, 6, 8),
              payment,
            );
        } else {
          emit(day, "payment.succeeded", customerId, dice.time(day, 4, 6), payment);
        }
      }
      if (!canceled && dice.chance(activityRate))
        emit(day, "activity", customerId, dice.time(day, 8, 12), { feature: dice.pick(FEATURES) });
      if (!canceled && dice.chance(0.004)) {
        const next = dice.pick(PLANS);
        if (next.plan !== plan.plan) {
          emit(day, "subscription.changed", customerId, dice.time(day, 12, 13), {
            plan: next.plan,
            mrr: next.mrr,
            previous_plan: plan.plan,
            previous_mrr: plan.mrr,
          });
          plan = next;
        }
      }
      if (!canceled && dice.chance(0.003)) {
        emit(day, "card.expiring", customerId, dice.time(day, 12, 13), {
          expires_at: iso(START + (day + 20) * DAY),
        });
      }
      if (!canceled && dice.chance(0.02)) days[day]?.inApp.push({ customerId, at: dice.time(day, 13, 14) });
      if (!canceled && day > signup && dice.chance(0.01)) {
        const reason = dice.pick(REASONS);
        const at = START + day * DAY + 14 * HOUR + dice.int(30) * 60_000;
        const accepts = dice.chance(0.35);
        sequence += 1;
        const cancellation: PlannedEvent = {
          id: `ev_${sequence}`,
          type: "subscription.canceled",
          customer_id: customerId,
          occurred_at: iso(at + 20 * 60_000),
          properties: { reason, ...(reason === "other" ? { comment: "no comment" } : {}) },
        };
        days[day]?.cancelFlows.push({ customerId, reason, at, accepts, cancellation });
        // Whether it happens depends on the answer; a customer who may cancel is treated as gone
        // by the plan (an accepted offer keeps them, with no further events planned), and may come
        // back later: the reactivation then skips the days in between.
        canceled = true;
        const back = day + 10 + dice.int(40);
        if (dice.chance(0.3) && back < DAYS) {
          emit(back, "subscription.reactivated", customerId, dice.time(back, 9, 11), {
            plan: plan.plan,
            mrr: plan.mrr,
          });
          canceled = false;
          day = back;
        }
      }
    }
  }
  for (const day of days) day.events.sort((a, b) => a.occurred_at.localeCompare(b.occurred_at));
  return { days, customerIds };
}

// ----------------------------------------------------------------------------------------------
// Two deployments side by side, driven through the Worker's fetch with their own env.

interface Deployment {
  name: string;
  env: Env;
  /** Messages the deployment put on its SENDS queue and that the consumer has not finished. */
  queued: unknown[];
  /** Every admin tick's report, in order. */
  ticks: Json[];
  /** Every decision answer, in order of the requests. */
  decisions: Json[];
  /** Every accept/decline answer, in order of the requests. */
  answers: Json[];
}

/** A SENDS queue that keeps what is put on it, for the test to consume with the right env. */
function capturingQueue(queued: unknown[]): Queue<unknown> {
  return {
    send: async (body: unknown) => {
      queued.push(body);
    },
    sendBatch: async (messages: Iterable<MessageSendRequest<unknown>>) => {
      for (const message of messages) queued.push(message.body);
    },
  } as unknown as Queue<unknown>;
}

/**
 * A TICKS queue that refuses messages: the admin tick runs every shard inline, and a unit message
 * put on the test runtime's real queue would be consumed with the default env, not this deployment's.
 */
function refusingQueue(name: string): Queue<unknown> {
  const refuse = async () => {
    throw new Error(`the differential test drives ticks inline; nothing may go on ${name}`);
  };
  return { send: refuse, sendBatch: refuse } as unknown as Queue<unknown>;
}

async function deployment(name: string, databases: D1Database[]): Promise<Deployment> {
  const queued: unknown[] = [];
  const deployed = await shardedEnv(databases, {
    SENDS: capturingQueue(queued),
    TICKS: refusingQueue("TICKS"),
  });
  return { name, env: deployed, queued, ticks: [], decisions: [], answers: [] };
}

const ADMIN = generateApiKey();

async function storeAdminKey(target: Deployment): Promise<void> {
  await issueKeyOnEvery(databasesOf(target.env), ["admin"], ADMIN);
}

/** Calls the Worker's fetch with the deployment's env; `now` sets X-Rebound-Now. */
async function call(
  target: Deployment,
  method: string,
  path: string,
  options: { body?: unknown; now?: number } = {},
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN.secret}` };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.now !== undefined) headers["x-rebound-now"] = iso(options.now);
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://rebound.test${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    }),
    target.env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, body: path.includes("format=csv") ? text : JSON.parse(text) };
}

/** Like call, failing the test with the answer on any status but 200 or 201. */
async function ok(
  target: Deployment,
  method: string,
  path: string,
  options: { body?: unknown; now?: number } = {},
) {
  const result = await call(target, method, path, options);
  if (result.status !== 200 && result.status !== 201)
    throw new Error(
      `${target.name}: ${method} ${path} answered ${result.status} ${JSON.stringify(result.body)}`,
    );
  return result.body;
}

/**
 * Delivers what the deployment queued, as the rebound-sends consumer would at `now`: batches of 25,
 * each with the deployment's env. Messages put back (a send not due yet) stay queued for later.
 */
async function deliver(target: Deployment, now: number): Promise<void> {
  const pending = target.queued.splice(0);
  for (let start = 0; start < pending.length; start += QUEUE_BATCH) {
    const bodies = pending.slice(start, start + QUEUE_BATCH);
    for (const body of bodies) {
      if (typeof body !== "object" || body === null || !("sendId" in body))
        throw new Error(`${target.name}: an unexpected message on the sends queue: ${JSON.stringify(body)}`);
    }
    const batch = createMessageBatch(
      "rebound-sends",
      bodies.map((body, index) => ({ id: `m${start + index}`, timestamp: new Date(now), attempts: 1, body })),
    );
    const outcomes = await consumeSends(batch, target.env, { clock: () => now, ruleset: deployedRuleset() });
    outcomes.forEach((outcome, index) => {
      if (outcome.kind === "retry") target.queued.push(bodies[index]);
    });
  }
}

/** Replays one planned day against a deployment. */
async function live(target: Deployment, day: Day, dayIndex: number): Promise<void> {
  // Events in batches that cut across customers (and so across shards).
  for (let start = 0; start < day.events.length; start += BATCH_SIZE) {
    const body = await ok(target, "POST", "/v1/events", {
      body: { events: day.events.slice(start, start + BATCH_SIZE) },
    });
    if (body.accepted + body.duplicates !== Math.min(BATCH_SIZE, day.events.length - start))
      throw new Error(`${target.name}: a batch was not taken whole: ${JSON.stringify(body)}`);
  }
  for (const moment of day.inApp) {
    target.decisions.push(
      await ok(target, "POST", "/v1/decisions", {
        body: { customer_id: moment.customerId, context: "in_app" },
        now: moment.at,
      }),
    );
  }
  const cancellations: PlannedEvent[] = [];
  for (const flow of day.cancelFlows) {
    const decision = await ok(target, "POST", "/v1/decisions", {
      body: { customer_id: flow.customerId, context: "cancel_flow", reason: flow.reason },
      now: flow.at,
    });
    target.decisions.push(decision);
    const offered: string | null = decision.offer ? decision.decision_id : null;
    if (offered && flow.accepts) {
      target.answers.push(
        await ok(target, "POST", `/v1/offers/${offered}/accept`, { now: flow.at + 5 * 60_000 }),
      );
      continue;
    }
    if (offered)
      target.answers.push(
        await ok(target, "POST", `/v1/offers/${offered}/decline`, { now: flow.at + 5 * 60_000 }),
      );
    cancellations.push(flow.cancellation);
  }
  if (cancellations.length > 0) await ok(target, "POST", "/v1/events", { body: { events: cancellations } });
  if (dayIndex % TICK_EVERY === TICK_EVERY - 1) {
    const at = START + dayIndex * DAY + TICK_HOUR * HOUR;
    const answer = await ok(target, "POST", "/v1/admin/tick", { body: { at: iso(at) } });
    target.ticks.push(answer.tick);
    await deliver(target, at + 5 * 60_000);
  }
}

// ----------------------------------------------------------------------------------------------
// Normalising answers: generated ids, wall-clock times and query costs go; everything else stays.

const GENERATED_ID = /^(dec|snd|run)_[0-9a-z]+$/i;
/** Fields that hold a query's cost or a wall-clock moment, never a figure a user compares. */
const COST_OR_CLOCK = new Set([
  "cost",
  "meta",
  "queries",
  "rows_read",
  "rows_written",
  "rows_read_per_selected",
  "pages",
  "received_at",
  "next_cursor",
]);

/** A copy of `value` with generated ids replaced by a placeholder and cost and clock fields dropped. */
function normalise(value: Json): Json {
  if (typeof value === "string")
    return GENERATED_ID.test(value) ? "<id>" : value.replace(/(dec|snd|run)_[0-9a-z]{28}/gi, "<id>");
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === "object") {
    const copy: Record<string, Json> = {};
    for (const [key, field] of Object.entries(value))
      if (!COST_OR_CLOCK.has(key)) copy[key] = normalise(field);
    return copy;
  }
  return value;
}

/** Every page of a keyset-paged list, items concatenated (`key` names the items' array). */
async function allPages(target: Deployment, path: string, key: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page += 1) {
    const separator = path.includes("?") ? "&" : "?";
    const body = await ok(
      target,
      "GET",
      `${path}${cursor ? `${separator}cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    const list = body[key];
    if (!Array.isArray(list))
      throw new Error(`${target.name}: ${path} has no "${key}" list: ${JSON.stringify(body)}`);
    items.push(...list);
    cursor = body.next_cursor ?? null;
    if (!cursor) return items;
  }
  throw new Error(`${target.name}: ${path} pages without end`);
}

/** Items normalised and sorted by their JSON, for lists whose order among equals may differ. */
function sortedNormalised(items: Json[]): Json[] {
  return items.map(normalise).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Numbers summed per key over a tick report's campaign runs: (campaign, occurrence, step) → stats. */
function campaignFigures(reports: Json[]): Record<string, Record<string, number>> {
  const figures: Record<string, Record<string, number>> = {};
  for (const report of reports) {
    for (const run of report.campaigns ?? []) {
      const key = `${run.campaign}/${run.occurrence}/${run.step}`;
      const sums = figures[key] ?? {};
      figures[key] = sums;
      for (const field of [
        "audience",
        "sent",
        "deferred",
        "holdout",
        "frequency_capped",
        "already_sent",
        "no_offer",
      ])
        sums[field] = (sums[field] ?? 0) + (run[field] ?? 0);
    }
  }
  return figures;
}

/** The dunning and lifecycle figures of a tick report (counts and steps, not costs or windows). */
function programmeFigures(report: Json): Json {
  return {
    dunning: {
      opened: report.dunning?.opened,
      recovered: report.dunning?.recovered,
      canceled: report.dunning?.canceled,
      final_actions: report.dunning?.final_actions,
      sent: report.dunning?.sent,
      steps: report.dunning?.steps,
    },
    lifecycle: {
      sent: report.lifecycle?.sent,
      steps: report.lifecycle?.steps,
      deferred: report.lifecycle?.deferred,
      no_offer: report.lifecycle?.no_offer,
    },
    archived_events: report.archive?.events ?? 0,
    errors: report.errors,
    clean: report.clean,
  };
}

/** Every send of the deployment, per customer: what was sent, when due, its status and its text. */
async function sendsByCustomer(target: Deployment): Promise<Record<string, Json[]>> {
  const sends = await allPages(target, "/v1/sends?limit=100", "sends");
  const outbox = await allPages(target, "/v1/outbox?limit=100", "messages");
  const texts = new Map<string, Json>();
  for (const message of outbox) texts.set(message.send_id, message);
  const byCustomer: Record<string, Json[]> = {};
  for (const send of sends) {
    const delivered = texts.get(send.id);
    const list = byCustomer[send.customer_id] ?? [];
    byCustomer[send.customer_id] = list;
    list.push(
      normalise({
        ...send,
        rendered: delivered
          ? { subject: delivered.subject, text: delivered.text, html: delivered.html }
          : null,
      }),
    );
  }
  for (const list of Object.values(byCustomer))
    list.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return byCustomer;
}

/** Campaign runs merged by (campaign, occurrence, step, offset) with their stats summed. */
async function campaignRuns(target: Deployment): Promise<Json> {
  const runs = await allPages(target, "/v1/admin/campaign-runs?limit=100", "runs");
  const merged: Record<string, Json> = {};
  for (const run of runs) {
    const key = `${run.campaign}/${run.occurrence}/${run.step}/${run.offset ?? ""}`;
    // A sharded deployment also says which shards hold parts of the run; one shard has no parts.
    const { shards: _parts, ...view } = normalise(run);
    const entry = merged[key];
    if (!entry) {
      merged[key] = view;
      continue;
    }
    for (const [field, value] of Object.entries(view.stats ?? {}))
      if (typeof value === "number") entry.stats[field] = (entry.stats[field] ?? 0) + value;
  }
  return merged;
}

// ----------------------------------------------------------------------------------------------

const workload = planWorkload(SEED);
let one: Deployment;
let four: Deployment;
const END = START + DAYS * DAY;
const PERIOD = `from=${iso(START).slice(0, 10)}&to=${iso(END).slice(0, 10)}`;

beforeAll(async () => {
  four = await deployment("four shards", [env.DB, spareDatabase(1), spareDatabase(2), spareDatabase(3)]);
  one = await deployment("one shard", [spareDatabase(4)]);
  await storeAdminKey(four);
  await storeAdminKey(one);
  for (const [index, day] of workload.days.entries()) {
    await live(one, day, index);
    await live(four, day, index);
  }
  // Whatever was deferred past quiet hours is delivered two days after the last tick.
  const last = START + DAYS * DAY + 2 * DAY;
  await deliver(one, last);
  await deliver(four, last);
}, 600_000);

describe("one shard and four shards give the same answers", () => {
  it("spreads the workload over every shard (the comparison means something)", async () => {
    expect(workload.days.flatMap((day) => day.events).length).toBeGreaterThan(1_500);
    expect(four.ticks.length).toBe(Math.floor(DAYS / TICK_EVERY));
    for (const shard of allShards(four.env)) {
      const { results } = await shard.db
        .prepare("SELECT id FROM customers ORDER BY id")
        .all<{ id: string }>();
      const expected = workload.customerIds.filter((id) => placedShard(id, 4) === shard.index).sort();
      expect(expected.length, `customers placed on shard ${shard.index}`).toBeGreaterThan(10);
      expect(results.map((row) => row.id)).toEqual(expected);
    }
  });

  it("every customer's profile", async () => {
    for (const customerId of workload.customerIds) {
      const single = await call(one, "GET", `/v1/customers/${customerId}`);
      const sharded = await call(four, "GET", `/v1/customers/${customerId}`);
      expect(single.status, customerId).toBe(200);
      expect(normalise(sharded), customerId).toEqual(normalise(single));
    }
  });

  it("every decision and every offer answer", () => {
    expect(one.decisions.length).toBeGreaterThan(20);
    expect(one.decisions.some((decision) => decision.offer)).toBe(true);
    // Offer, variant, reason code and why, message text, expiry: everything but ids and costs.
    expect(four.decisions.map(normalise)).toEqual(one.decisions.map(normalise));
    expect(four.answers.map(normalise)).toEqual(one.answers.map(normalise));
  });

  it("every stored decision read back by its id, with the inputs that mattered", async () => {
    for (const [index, decision] of one.decisions.entries()) {
      const single = await ok(one, "GET", `/v1/decisions/${decision.decision_id}`);
      const sharded = await ok(four, "GET", `/v1/decisions/${four.decisions[index]?.decision_id}`);
      expect(normalise(sharded), decision.customer_id).toEqual(normalise(single));
    }
  });

  it("every send: programme, occurrence, step, status, channel and the rendered message", async () => {
    const single = await sendsByCustomer(one);
    const kinds = new Set(Object.values(single).flatMap((sends) => sends.map((send) => send.programme.kind)));
    expect([...kinds].sort()).toEqual(["campaign", "card_expiry", "dunning", "inactivity", "winback"]);
    const sharded = await sendsByCustomer(four);
    expect(Object.keys(sharded).sort()).toEqual(Object.keys(single).sort());
    for (const customerId of Object.keys(single))
      expect(sharded[customerId], customerId).toEqual(single[customerId]);
  });

  it("the ticks' figures: campaign runs summed over shards, dunning and lifecycle", () => {
    expect(campaignFigures(four.ticks)).toEqual(campaignFigures(one.ticks));
    // The campaign had an audience, sent, and held some out: the sums compared are not all zeros.
    const totals = { audience: 0, sent: 0, holdout: 0 };
    for (const run of Object.values(campaignFigures(one.ticks)))
      for (const field of ["audience", "sent", "holdout"] as const) totals[field] += run[field] ?? 0;
    expect(totals.audience).toBeGreaterThan(20);
    expect(totals.sent).toBeGreaterThan(10);
    expect(totals.holdout).toBeGreaterThan(0);
    expect(four.ticks.map(programmeFigures)).toEqual(one.ticks.map(programmeFigures));
  });

  it("the campaign runs list, stats summed across shards", async () => {
    expect(await campaignRuns(four)).toEqual(await campaignRuns(one));
  });

  const figures = [
    `/v1/metrics/retention?${PERIOD}&interval=week`,
    `/v1/metrics/retention?${PERIOD}&interval=month&currency=EUR`,
    `/v1/metrics/cancellations?${PERIOD}`,
    `/v1/metrics/offers?${PERIOD}&by=offer`,
    `/v1/metrics/offers?${PERIOD}&by=reason`,
    `/v1/metrics/offers?${PERIOD}&by=variant`,
    `/v1/metrics/offers?${PERIOD}&by=context`,
    `/v1/metrics/dunning?${PERIOD}`,
    `/v1/metrics/winback?${PERIOD}`,
    `/v1/metrics/campaigns?${PERIOD}`,
  ];
  it.each(figures)("%s", async (path) => {
    expect(normalise(await ok(four, "GET", path))).toEqual(normalise(await ok(one, "GET", path)));
  });

  const lists: [path: string, key: string][] = [
    [`/v1/metrics/winback/customers?${PERIOD}&limit=20`, "items"],
    [`/v1/metrics/offers/decisions?${PERIOD}&limit=20`, "items"],
    [`/v1/metrics/campaigns/customers?${PERIOD}&limit=20`, "items"],
    [`/v1/metrics/cancellations/customers?${PERIOD}&limit=20`, "items"],
    [`/v1/metrics/dunning/cases?${PERIOD}&limit=20`, "items"],
    ["/v1/admin/dunning-cases?limit=20", "cases"],
  ];
  it.each(lists)("%s, every page", async (path, key) => {
    const single = await allPages(one, path, key);
    const sharded = await allPages(four, path, key);
    expect(sortedNormalised(sharded)).toEqual(sortedNormalised(single));
  });

  it("the plan of the deployed rules over the next 30 days (rebound plan), page by page", async () => {
    const pages = async (target: Deployment) => {
      const answers: Json[] = [];
      let cursor: string | null = null;
      do {
        const body = {
          ruleset: deployedIr,
          at: iso(END),
          days: 30,
          page_size: 40,
          ...(cursor ? { cursor } : {}),
        };
        const answer = await ok(target, "POST", "/v1/admin/plan", { body });
        answers.push(answer.plan);
        cursor = answer.plan.next_cursor;
      } while (cursor !== null);
      return answers.map(normalise);
    };
    const single = await pages(one);
    expect(single.length).toBeGreaterThan(2);
    expect(await pages(four)).toEqual(single);
  });

  it("the newest decisions and the sends with problems", async () => {
    for (const path of ["/v1/metrics/decisions/recent", "/v1/metrics/sends/problems"]) {
      expect(normalise(await ok(four, "GET", path)), path).toEqual(normalise(await ok(one, "GET", path)));
    }
  });
});
