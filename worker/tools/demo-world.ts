/**
 * The demo world: a small SaaS company whose customers sign up, use the product, renew, fail to pay,
 * upgrade, downgrade, go quiet, cancel and come back. Pure and seeded: this module knows nothing of
 * HTTP. demo-simulate.ts drives it day by day against a running Worker: it sends the day's events,
 * lets the customers who want to cancel go through the cancel flow, runs the tick, and shows the
 * world what Rebound sent so the customers can react to it (pay after a dunning reminder, come back
 * after a win-back message, use the product again after a nudge).
 *
 * Flow: createWorld (prior history) → for each day: planDay (events + moments) → the driver asks the
 * API at each moment → settleCancelFlow / settleReturn (follow-up events) → tick → seeSends.
 *
 * Deterministic: every customer draws from its own seeded generator, whose state is part of the
 * world, so the same seed, anchor and API answers give the same requests whatever order the API
 * lists things in, and a saved world (JSON) resumes exactly where it stopped.
 */
import { DECLINE_CODES, type DemoEvent, FEATURES, FIRST_NAMES, PLANS, REASONS, REGIONS } from "./demo-data";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Room after a moment for what follows it (an answer, a cancellation) before the tick. */
const MOMENT_MARGIN = 15 * 60_000;

/** The size and seed of the demo company. */
export interface DemoWorldOptions {
  /** The world's "now", epoch ms (today's UTC midnight in npm start): the last simulated day ends before it. */
  anchor: number;
  seed: number;
  /** Simulated days before the anchor. */
  days: number;
  /** Customers with a history before the first simulated day (leads and former customers included). */
  initialCustomers: number;
  /** Average sign-ups a month during the simulated days. */
  signupsPerMonth: number;
  /**
   * How far back the oldest customer's history goes. The first ticks archive whatever is older than
   * the rules' event retention, a bounded slice per tick, so a longer past makes the first
   * simulated days slower.
   */
  historyDays: number;
  /** Share of paying customers who decide to cancel in a month (before the cancel flow's offers). */
  monthlyChurn: number;
  /** Share of renewals whose payment fails (dunning follows). */
  paymentFailure: number;
}

/** What `npm start` simulates: six months of a company with a few hundred customers. */
export const DEMO_WORLD_DEFAULTS = Object.freeze({
  seed: 20_260_422,
  days: 182,
  initialCustomers: 250,
  signupsPerMonth: 40,
  historyDays: 365,
  monthlyChurn: 0.04,
  paymentFailure: 0.08,
});

/**
 * How customers behave, in one place. Daily rates are per customer and day; the effect of what
 * Rebound sends is here too, so the dashboard's lift and recovery figures have a known cause.
 */
export const DEMO_BEHAVIOUR = Object.freeze({
  /** The hour (UTC) of each day's tick: after the Tuesday 10:00 New York campaign in summer and winter. */
  tickHourUtc: 15,
  /** Sign-ups that only try the product and never subscribe. */
  leadShare: 0.12,
  /** Days from sign-up to the first subscription, at most. */
  trialDays: 10,
  /** Renewals followed by a move up or down a plan. */
  upgrade: 0.03,
  downgrade: 0.02,
  /** What raises an active customer's daily chance of canceling (the world's monthly churn / 30). */
  cancelWhenQuiet: 3,
  cancelInFirstTwoMonths: 1.5,
  /** Daily chance that a customer whose payment failed cancels on their own. */
  cancelWhilePastDue: 0.004,
  /** Daily chance that an active customer stops using the product, and that a quiet one starts again. */
  quietPerDay: 0.0015,
  quietEndsPerDay: 0.01,
  /** Chance that an inactivity nudge brings a customer back to the product within three days. */
  nudgeAnswered: 0.35,
  /**
   * Chance of paying the failed invoice after each dunning reminder (day 0, 3, 7, 14, 21, 28): each
   * reminder is another chance, so the share recovered rises with every reminder sent (about 70% of
   * those sent the whole cadence; the rest are canceled by its final action).
   */
  payAfterReminder: Object.freeze([0.25, 0.22, 0.2, 0.17, 0.14, 0.12]),
  /**
   * Coming back. A canceled customer's daily chance of returning on their own, and the chance that
   * one message brings them back within `returnWithinDays`, both fade once they have been gone
   * `returnFullForDays` (time constant `returnFadeDays`). Freshly gone, about 4% come back within
   * two weeks on their own and about 13% after the campaign's first step; over the campaign's whole
   * audience, most of it gone for months, the demo run measured about 1% of the holdout against 5 to
   * 6% of those sent. Each message of the same absence pulls a little less (`messageFatigue`); the
   * short copy pulls more.
   */
  ownReturnPerDay: 0.003,
  returnFullForDays: 21,
  returnFadeDays: 60,
  messagePull: Object.freeze({ campaign_first: 0.09, campaign_later: 0.045, winback: 0.06 }),
  variantPull: Object.freeze({ short_copy: 1.15, long_copy: 1 }) as Readonly<Record<string, number>>,
  messageFatigue: 0.85,
  returnWithinDays: 13,
  /** Chance that a returning customer cancels again within `rechurnWithinDays` (brought back by a message, on their own). */
  rechurnAfterMessage: 0.3,
  rechurnOnOwn: 0.15,
  rechurnWithinDays: 90,
  /** Chance of taking a cancel-flow offer, by reward type; a saved customer may still leave later. */
  acceptByReward: Object.freeze({
    amount_off: 0.45,
    percent_off: 0.5,
    months_off: 0.4,
    credit: 0.35,
    consultation: 0.3,
    feature_unlock: 0.35,
    trial_extension: 0.25,
    bonus_points: 0.15,
  }) as Readonly<Record<string, number>>,
  acceptOther: 0.3,
  cancelAfterSave: 0.25,
});

type CustomerStatus = "upcoming" | "lead" | "prospect" | "active" | "past_due" | "canceled";

/** An unpaid invoice and what the customer will do about it. */
interface OpenInvoice {
  invoiceId: string;
  amount: number;
  failedAt: number;
  reminders: number;
  /** When the customer pays, once a reminder persuaded them. */
  payAt: number | null;
}

/** One customer of the world: plain data, so the world saves as JSON. */
export interface WorldCustomer {
  id: string;
  /** This customer's generator state (mulberry32). */
  rng: number;
  /** Events emitted so far (the next event id). */
  seq: number;
  region: number;
  firstName: string;
  signupAt: number;
  status: CustomerStatus;
  /** Chance of using the product on a given day. */
  engagement: number;
  quiet: boolean;
  subscribeAt: number | null;
  plan: number;
  mrr: number;
  renewalAt: number | null;
  invoices: number;
  canceledAt: number | null;
  reason: string | null;
  unpaid: OpenInvoice | null;
  resumeAt: number | null;
  ticketResolveAt: number | null;
  returnAt: number | null;
  /** The offer a win-back message carried, accepted on the way back. */
  returnDecision: string | null;
  returnAfterMessage: boolean;
  cancelAgainAt: number | null;
  /** Win-back messages received since the last cancellation. */
  messages: number;
}

/** What happened, for the summary the driver prints and keeps. */
export interface DemoTally {
  /** Events of the customers' past, sent before the first day. */
  historyEvents: number;
  /** Events of the simulated days (Rebound's own, such as a dunning cancellation, not counted). */
  events: number;
  signups: number;
  subscriptions: number;
  renewals: number;
  upgrades: number;
  downgrades: number;
  paymentsFailed: number;
  paidAfterReminder: number;
  canceledByDunning: number;
  cancelFlows: number;
  offersShown: number;
  offersAccepted: number;
  offersDeclined: number;
  cancellations: Record<string, number>;
  returnedAfterMessage: number;
  returnedOnOwn: number;
  winbackOffersAccepted: number;
  canceledAgain: number;
  nudgesAnswered: number;
  messagesSeen: Record<string, number>;
}

/** The whole world: what the driver saves between days. */
export interface WorldState {
  options: DemoWorldOptions;
  /** The next simulated day to run (0 … days). */
  nextDay: number;
  customers: WorldCustomer[];
  tally: DemoTally;
}

/**
 * A moment the driver must ask the API about before the day's remaining events: a customer in the
 * cancel flow (a decision, then accept or decline), or a canceled customer coming back (accepting
 * the offer a win-back message carried, if any).
 */
export type Moment =
  | {
      kind: "cancel_flow";
      customerId: string;
      at: number;
      reason: string;
      comment: string | null;
      /** A customer who came back (or took an offer) and leaves again. */
      again: boolean;
    }
  | { kind: "return"; customerId: string; at: number; decisionId: string | null };

/** One simulated day: the events to send before its moments, the moments, and the tick's instant. */
export interface DayPlan {
  day: number;
  tickAt: number;
  events: DemoEvent[];
  moments: Moment[];
}

/** A message Rebound sent, as the driver read it back from GET /v1/sends. */
export interface SeenSend {
  customerId: string;
  kind: string;
  key: string;
  step: string;
  variant: string | null;
  decisionId: string | null;
  offerKey: string | null;
  /** When the customer gets it (after quiet hours). */
  deliverAt: number;
}

/** The instant of day `day`'s tick; the day's events fall in the 24 hours before it. */
export function tickAt(options: DemoWorldOptions, day: number): number {
  return options.anchor - (options.days - day) * DAY + DEMO_BEHAVIOUR.tickHourUtc * HOUR;
}

/**
 * Creates the world as it stands before the first simulated day, with the events of its past:
 * `initialCustomers` customers (leads, subscribers, former customers, a few in dunning), and the
 * sign-ups of the simulated days waiting for their day.
 */
export function createWorld(options: DemoWorldOptions): { state: WorldState; history: DemoEvent[] } {
  const seeds = { rng: mix(options.seed) };
  const historyEnd = tickAt(options, 0) - DAY;
  const starts: number[] = [];
  for (let n = 0; n < options.initialCustomers; n++) {
    starts.push(historyEnd - Math.floor((1 + next(seeds) * (options.historyDays - 1)) * DAY));
  }
  const perDay = (options.signupsPerMonth * 12) / 365;
  for (let day = 0; day < options.days; day++) {
    const from = tickAt(options, day) - DAY;
    for (let k = poisson(seeds, perDay); k > 0; k--) starts.push(from + Math.floor(next(seeds) * DAY));
  }
  starts.sort((a, b) => a - b);
  const customers = starts.map((signupAt, index) => newCustomer(options.seed, index + 1, signupAt));

  const state: WorldState = { options, nextDay: 0, customers, tally: emptyTally() };
  const history: DemoEvent[] = [];
  for (const customer of customers) {
    if (customer.signupAt < historyEnd) history.push(...pastOf(state, customer, historyEnd));
  }
  // The tally counts the simulated days; the past is only its number of events.
  state.tally = { ...emptyTally(), historyEvents: history.length };
  return { state, history };
}

/**
 * Advances the world through day `day` (the 24 hours before its tick): the events every customer
 * causes, and the moments the driver must put to the API. A customer about to cancel sends nothing
 * after that moment the same day.
 */
export function planDay(state: WorldState, day: number): DayPlan {
  const to = tickAt(state.options, day);
  const from = to - DAY;
  const events: DemoEvent[] = [];
  const moments: Moment[] = [];
  for (const customer of state.customers) {
    const act = new Act(state, customer, events);
    if (customer.status === "upcoming") {
      if (customer.signupAt >= to) continue;
      signUp(act, customer.signupAt);
    }
    const start = Math.max(from, customer.signupAt);
    switch (customer.status) {
      case "lead":
        tryProduct(act, start, Math.min(to, customer.signupAt + 14 * DAY));
        break;
      case "prospect":
        prospectDay(act, start, to);
        break;
      case "active":
      case "past_due":
        subscriberDay(act, start, to, moments);
        break;
      case "canceled":
        canceledDay(act, start, to, moments);
        break;
    }
  }
  events.sort(byTime);
  moments.sort((a, b) => a.at - b.at || a.customerId.localeCompare(b.customerId));
  return { day, tickAt: to, events, moments };
}

/**
 * What the customer in the cancel flow answers to the decision: "accept" or "decline" for an
 * offer (by its reward type), null when the decision offered nothing.
 */
export function cancelFlowChoice(
  state: WorldState,
  moment: Extract<Moment, { kind: "cancel_flow" }>,
  rewardType: string | null,
): "accept" | "decline" | null {
  state.tally.cancelFlows += 1;
  if (rewardType === null) return null;
  state.tally.offersShown += 1;
  const customer = customerOf(state, moment.customerId);
  const odds = DEMO_BEHAVIOUR.acceptByReward[rewardType] ?? DEMO_BEHAVIOUR.acceptOther;
  const choice = chance(customer, odds) ? "accept" : "decline";
  if (choice === "accept") state.tally.offersAccepted += 1;
  else state.tally.offersDeclined += 1;
  return choice;
}

/** After the cancel flow: the cancellation unless the customer took the offer. */
export function settleCancelFlow(
  state: WorldState,
  moment: Extract<Moment, { kind: "cancel_flow" }>,
  choice: "accept" | "decline" | null,
): DemoEvent[] {
  const customer = customerOf(state, moment.customerId);
  const events: DemoEvent[] = [];
  if (choice === "accept") {
    if (chance(customer, DEMO_BEHAVIOUR.cancelAfterSave)) {
      customer.cancelAgainAt = moment.at + between(customer, 20, 120) * DAY;
    }
    return events;
  }
  const act = new Act(state, customer, events);
  cancel(act, moment.at + 4 * 60_000, moment.reason, moment.comment);
  if (moment.again) state.tally.canceledAgain += 1;
  return events;
}

/** A canceled customer comes back: the reactivation and its first payment. */
export function settleReturn(
  state: WorldState,
  moment: Extract<Moment, { kind: "return" }>,
  offerAccepted: boolean,
): DemoEvent[] {
  const customer = customerOf(state, moment.customerId);
  const events: DemoEvent[] = [];
  const act = new Act(state, customer, events);
  const tally = state.tally;
  if (offerAccepted) tally.winbackOffersAccepted += 1;
  if (customer.returnAfterMessage) tally.returnedAfterMessage += 1;
  else tally.returnedOnOwn += 1;
  const plan = PLANS[customer.plan]!;
  act.emit("subscription.reactivated", moment.at, { plan: plan.plan, mrr: customer.mrr });
  customer.status = "active";
  customer.canceledAt = null;
  customer.quiet = false;
  customer.unpaid = null;
  invoice(act, moment.at + 60_000);
  customer.renewalAt = addMonth(moment.at);
  act.emit("activity", moment.at + 5 * 60_000, { feature: pick(customer, FEATURES) });
  const rechurn = customer.returnAfterMessage
    ? DEMO_BEHAVIOUR.rechurnAfterMessage
    : DEMO_BEHAVIOUR.rechurnOnOwn;
  if (chance(customer, rechurn)) {
    customer.cancelAgainAt = moment.at + between(customer, 10, DEMO_BEHAVIOUR.rechurnWithinDays) * DAY;
  }
  customer.returnAt = null;
  customer.returnDecision = null;
  customer.returnAfterMessage = false;
  customer.messages = 0;
  return events;
}

/**
 * Shows the customers what one tick sent them: a dunning reminder may get the invoice paid, the
 * final one means Rebound canceled the subscription, a nudge may bring a quiet customer back to
 * the product, a win-back message or campaign may bring a canceled customer back.
 */
export function seeSends(state: WorldState, sends: readonly SeenSend[]): void {
  const sorted = [...sends].sort(
    (a, b) =>
      a.customerId.localeCompare(b.customerId) ||
      a.kind.localeCompare(b.kind) ||
      a.key.localeCompare(b.key) ||
      a.step.localeCompare(b.step),
  );
  for (const send of sorted) {
    const customer = state.customers.find((c) => c.id === send.customerId);
    if (!customer) continue;
    state.tally.messagesSeen[send.kind] = (state.tally.messagesSeen[send.kind] ?? 0) + 1;
    switch (send.kind) {
      case "dunning":
        seeDunning(state, customer, send);
        break;
      case "inactivity":
        if (chance(customer, DEMO_BEHAVIOUR.nudgeAnswered)) {
          customer.resumeAt = send.deliverAt + Math.floor(uniform(customer, 2 * HOUR, 3 * DAY));
        }
        break;
      case "winback":
      case "campaign":
        seeWinback(customer, send);
        break;
    }
  }
}

/** The world's figures as the driver prints them: customers by status and MRR by currency. */
export function census(state: WorldState): {
  customers: number;
  paying: number;
  canceled: number;
  mrr: Record<string, number>;
} {
  let customers = 0;
  let paying = 0;
  let canceled = 0;
  const mrr: Record<string, number> = {};
  for (const customer of state.customers) {
    if (customer.status === "upcoming") continue;
    customers += 1;
    if (customer.status === "active" || customer.status === "past_due") {
      paying += 1;
      const currency = REGIONS[customer.region]!.currency;
      mrr[currency] = (mrr[currency] ?? 0) + customer.mrr;
    }
    if (customer.status === "canceled") canceled += 1;
  }
  return { customers, paying, canceled, mrr };
}

// ---------------------------------------------------------------------------------------------
// Customers' days

function seeDunning(state: WorldState, customer: WorldCustomer, send: SeenSend): void {
  const unpaid = customer.unpaid;
  if (send.step === "final") {
    // The cadence ended unpaid: Rebound canceled the subscription (reason payment_failed).
    if (customer.status === "past_due") {
      state.tally.canceledByDunning += 1;
      state.tally.cancellations.payment_failed = (state.tally.cancellations.payment_failed ?? 0) + 1;
      becomeCanceled(customer, send.deliverAt, "payment_failed");
    }
    return;
  }
  if (!unpaid || unpaid.payAt !== null || send.step === "final-webhook") return;
  const odds = DEMO_BEHAVIOUR.payAfterReminder[Math.min(unpaid.reminders, 5)]!;
  unpaid.reminders += 1;
  if (!chance(customer, odds)) return;
  // Paid before the cadence's final day (30 days after the failure).
  const latest = unpaid.failedAt + 30 * DAY - 2 * HOUR;
  unpaid.payAt = Math.min(latest, send.deliverAt + Math.floor(uniform(customer, HOUR, 2.5 * DAY)));
}

function seeWinback(customer: WorldCustomer, send: SeenSend): void {
  if (customer.status !== "canceled" || customer.returnAt !== null) return;
  const pull = DEMO_BEHAVIOUR.messagePull;
  const base =
    send.kind === "winback" ? pull.winback : send.step === "0" ? pull.campaign_first : pull.campaign_later;
  const variant = send.variant === null ? 1 : (DEMO_BEHAVIOUR.variantPull[send.variant] ?? 1);
  const odds =
    base *
    variant *
    DEMO_BEHAVIOUR.messageFatigue ** customer.messages *
    returnFade(customer, send.deliverAt);
  customer.messages += 1;
  if (customer.reason === "shutting_down" || !chance(customer, odds)) return;
  customer.returnAt =
    send.deliverAt + Math.floor(uniform(customer, 6 * HOUR, DEMO_BEHAVIOUR.returnWithinDays * DAY));
  customer.returnDecision = send.offerKey !== null ? send.decisionId : null;
  customer.returnAfterMessage = true;
}

function prospectDay(act: Act, from: number, to: number): void {
  const customer = act.customer;
  const subscribeAt = customer.subscribeAt ?? to;
  tryProduct(act, from, Math.min(to, subscribeAt));
  if (subscribeAt < to) subscribe(act, Math.max(from, subscribeAt));
}

function subscriberDay(act: Act, from: number, to: number, moments: Moment[]): void {
  const customer = act.customer;
  let cancelAt: number | null = null;
  let again = false;
  if (customer.cancelAgainAt !== null && customer.cancelAgainAt < to) {
    cancelAt = clampMoment(customer.cancelAgainAt, from, to);
    customer.cancelAgainAt = null;
    again = true;
  } else if (chance(customer, cancelOdds(act.state.options, customer, from))) {
    cancelAt = momentIn(customer, from, to);
  }
  const until = cancelAt ?? to;

  const unpaid = customer.unpaid;
  if (unpaid?.payAt != null && unpaid.payAt < until) {
    const at = Math.max(from, unpaid.payAt);
    act.emit("payment.succeeded", at, {
      invoice_id: unpaid.invoiceId,
      amount: unpaid.amount,
      currency: act.currency,
    });
    act.state.tally.paidAfterReminder += 1;
    customer.unpaid = null;
    customer.status = "active";
  }
  if (customer.resumeAt !== null && customer.resumeAt < until) {
    act.emit("activity", Math.max(from, customer.resumeAt), { feature: pick(customer, FEATURES) });
    customer.resumeAt = null;
    customer.quiet = false;
    act.state.tally.nudgesAnswered += 1;
  }
  if (customer.renewalAt !== null && customer.renewalAt < until) {
    const at = Math.max(from, customer.renewalAt);
    // A subscription whose last invoice is unpaid is not invoiced again until it is paid.
    if (customer.status === "active") renew(act, at, until);
    customer.renewalAt = addMonth(customer.renewalAt);
  }
  if (customer.ticketResolveAt !== null && customer.ticketResolveAt < until) {
    act.emit("support.ticket", Math.max(from, customer.ticketResolveAt), {
      status: "resolved",
      satisfied: chance(customer, 0.7),
    });
    customer.ticketResolveAt = null;
  }
  if (!customer.quiet && chance(customer, customer.engagement)) {
    act.emit("activity", instant(customer, from, until), { feature: pick(customer, FEATURES) });
  }
  if (!customer.quiet && chance(customer, DEMO_BEHAVIOUR.quietPerDay)) customer.quiet = true;
  else if (customer.quiet && chance(customer, DEMO_BEHAVIOUR.quietEndsPerDay)) customer.quiet = false;
  extras(act, from, until);

  if (cancelAt !== null) {
    const { reason, comment } = pickReason(customer);
    moments.push({ kind: "cancel_flow", customerId: customer.id, at: cancelAt, reason, comment, again });
  }
}

function canceledDay(act: Act, from: number, to: number, moments: Moment[]): void {
  const customer = act.customer;
  if (customer.returnAt === null && customer.reason !== "shutting_down" && customer.canceledAt !== null) {
    const weight = customer.reason === "other" ? 0.5 : customer.reason === "payment_failed" ? 1.5 : 1;
    if (chance(customer, DEMO_BEHAVIOUR.ownReturnPerDay * returnFade(customer, from) * weight)) {
      customer.returnAt = momentIn(customer, from, to);
      customer.returnDecision = null;
      customer.returnAfterMessage = false;
    }
  }
  if (customer.returnAt !== null && customer.returnAt < to) {
    const at = clampMoment(customer.returnAt, from, to);
    customer.returnAt = at;
    moments.push({ kind: "return", customerId: customer.id, at, decisionId: customer.returnDecision });
  }
}

/** How much of the will to come back is left at `at`: whole at first, fading the longer they are gone. */
function returnFade(customer: WorldCustomer, at: number): number {
  const away = (at - (customer.canceledAt ?? at)) / DAY;
  if (away <= DEMO_BEHAVIOUR.returnFullForDays) return 1;
  return Math.exp(-(away - DEMO_BEHAVIOUR.returnFullForDays) / DEMO_BEHAVIOUR.returnFadeDays);
}

function cancelOdds(options: DemoWorldOptions, customer: WorldCustomer, now: number): number {
  if (customer.status === "past_due") return DEMO_BEHAVIOUR.cancelWhilePastDue;
  let odds = options.monthlyChurn / 30;
  if (customer.quiet) odds *= DEMO_BEHAVIOUR.cancelWhenQuiet;
  if (customer.subscribeAt !== null && now - customer.subscribeAt < 60 * DAY) {
    odds *= DEMO_BEHAVIOUR.cancelInFirstTwoMonths;
  }
  return odds;
}

/**
 * A reason with demo-data.ts's weights (a quiet customer mostly says they stopped using it), and
 * sometimes one of its comments.
 */
function pickReason(customer: WorldCustomer): { reason: string; comment: string | null } {
  const spec = weighted(
    customer,
    REASONS.map((r) => ({ ...r, weight: customer.quiet && r.reason === "unused" ? r.weight * 4 : r.weight })),
  );
  const comments: readonly string[] = spec.comments;
  const comment = comments.length > 0 && chance(customer, 0.6) ? pick(customer, comments) : null;
  return { reason: spec.reason, comment };
}

/** A monthly renewal: the payment fails now and then (dunning follows), else it may change plan. */
function renew(act: Act, at: number, until: number): void {
  act.state.tally.renewals += 1;
  if (chance(act.customer, act.state.options.paymentFailure)) failPayment(act, at);
  else renewPaid(act, at, until);
}

/** A paid renewal, sometimes followed by an upgrade or a downgrade. */
function renewPaid(act: Act, at: number, until: number): void {
  const customer = act.customer;
  const tally = act.state.tally;
  invoice(act, at);
  const roll = next(customer);
  const change =
    roll < DEMO_BEHAVIOUR.upgrade ? 1 : roll < DEMO_BEHAVIOUR.upgrade + DEMO_BEHAVIOUR.downgrade ? -1 : 0;
  const target = customer.plan + change;
  const changeAt = at + Math.floor(uniform(customer, HOUR, 6 * HOUR));
  if (change !== 0 && target >= 0 && target < PLANS.length && changeAt < until) {
    changePlan(act, changeAt, target);
    if (change > 0) tally.upgrades += 1;
    else tally.downgrades += 1;
  }
}

function failPayment(act: Act, at: number): void {
  const customer = act.customer;
  customer.invoices += 1;
  const invoiceId = `in_${customer.id}_${customer.invoices}`;
  act.emit("payment.failed", at, {
    invoice_id: invoiceId,
    amount: customer.mrr,
    currency: act.currency,
    decline_code: pick(customer, DECLINE_CODES),
    card_last4: String(between(customer, 1000, 9999)),
    update_url: `https://billing.example.com/update/${customer.id}`,
  });
  customer.status = "past_due";
  customer.unpaid = { invoiceId, amount: customer.mrr, failedAt: at, reminders: 0, payAt: null };
  act.state.tally.paymentsFailed += 1;
}

function invoice(act: Act, at: number): void {
  const customer = act.customer;
  customer.invoices += 1;
  act.emit("payment.succeeded", at, {
    invoice_id: `in_${customer.id}_${customer.invoices}`,
    amount: customer.mrr,
    currency: act.currency,
  });
}

function changePlan(act: Act, at: number, target: number): void {
  const customer = act.customer;
  const previous = PLANS[customer.plan]!;
  const mrr = priceOf(target, act.currency);
  act.emit("subscription.changed", at, {
    plan: PLANS[target]!.plan,
    mrr,
    previous_plan: previous.plan,
    previous_mrr: customer.mrr,
  });
  customer.plan = target;
  customer.mrr = mrr;
}

function signUp(act: Act, at: number): void {
  const customer = act.customer;
  const region = REGIONS[customer.region]!;
  act.emit("customer.updated", at, {
    email: `${customer.firstName.toLowerCase().normalize("NFD").replace(/[^\w]/g, "")}.${customer.id.slice(5)}@example.com`,
    first_name: customer.firstName,
    country: region.country,
    timezone: region.timezone,
    attributes: {
      company_size: pick(customer, ["solo", "small", "mid", "large"]),
      channel: pick(customer, ["ads", "organic", "referral", "partner"]),
    },
  });
  act.state.tally.signups += 1;
  if (chance(customer, DEMO_BEHAVIOUR.leadShare)) {
    customer.status = "lead";
    return;
  }
  customer.status = "prospect";
  customer.subscribeAt = at + Math.floor(next(customer) * DEMO_BEHAVIOUR.trialDays * DAY);
}

function subscribe(act: Act, at: number): void {
  const customer = act.customer;
  act.emit("subscription.started", at, {
    plan: PLANS[customer.plan]!.plan,
    mrr: customer.mrr,
    currency: act.currency,
  });
  if (customer.plan > 0)
    act.emit("customer.updated", at + 60_000, { attributes: { seats: between(customer, 2, 40) } });
  invoice(act, at + 2 * 60_000);
  customer.status = "active";
  customer.subscribeAt = at;
  customer.renewalAt = addMonth(at);
  act.state.tally.subscriptions += 1;
}

function cancel(act: Act, at: number, reason: string, comment: string | null): void {
  const customer = act.customer;
  act.emit("subscription.canceled", at, comment ? { reason, comment } : { reason });
  const tally = act.state.tally;
  tally.cancellations[reason] = (tally.cancellations[reason] ?? 0) + 1;
  becomeCanceled(customer, at, reason);
}

function becomeCanceled(customer: WorldCustomer, at: number, reason: string): void {
  customer.status = "canceled";
  customer.canceledAt = at;
  customer.reason = reason;
  customer.unpaid = null;
  customer.quiet = false;
  customer.resumeAt = null;
  customer.cancelAgainAt = null;
  customer.renewalAt = null;
  customer.returnAt = null;
  customer.returnDecision = null;
  customer.messages = 0;
}

/** Trying the product before subscribing (or as a lead): more eager than a subscriber. */
function tryProduct(act: Act, from: number, to: number): void {
  const customer = act.customer;
  if (from >= to) return;
  if (chance(customer, Math.min(0.9, customer.engagement * 1.3))) {
    act.emit("activity", instant(customer, from, to), { feature: pick(customer, FEATURES) });
  }
}

/** The rarer things a subscriber does: add-on orders, tickets, NPS, referrals, expiring cards. */
function extras(act: Act, from: number, until: number): void {
  const customer = act.customer;
  if (from >= until) return;
  if (chance(customer, 0.002)) {
    act.emit("order.completed", instant(customer, from, until), {
      amount: pick(customer, [900, 2500, 4900, 12000, 25000]),
      currency: act.currency,
    });
  }
  if (customer.ticketResolveAt === null && chance(customer, 0.002)) {
    const at = instant(customer, from, until);
    act.emit("support.ticket", at, { status: "opened" });
    customer.ticketResolveAt = at + Math.floor(uniform(customer, 2 * HOUR, 4 * DAY));
  }
  if (chance(customer, 0.001)) {
    act.emit("nps.submitted", instant(customer, from, until), {
      score: pick(customer, [2, 4, 6, 7, 8, 9, 9, 10]),
    });
  }
  if (chance(customer, 0.0005)) {
    const at = instant(customer, from, until);
    act.emit("referral.made", at, { referred_customer_id: `ref-${customer.id}-${customer.seq + 1}` });
  }
  if (chance(customer, 0.0008)) {
    const at = instant(customer, from, until);
    const expiry = new Date(at + between(customer, 20, 50) * DAY);
    const endOfMonth = Date.UTC(expiry.getUTCFullYear(), expiry.getUTCMonth() + 1, 0);
    act.emit("card.expiring", at, { expires_at: new Date(endOfMonth).toISOString().slice(0, 10) });
  }
}

// ---------------------------------------------------------------------------------------------
// The past before the first simulated day

/**
 * A customer's history up to `end`: coarse usage until the last month, daily after it, monthly
 * invoices (a few failed and paid days later), plan changes, maybe a cancellation; a renewal that
 * failed in the last weeks is still unpaid when the simulation starts, so dunning has cases from
 * the first tick.
 */
function pastOf(state: WorldState, customer: WorldCustomer, end: number): DemoEvent[] {
  const events: DemoEvent[] = [];
  const act = new Act(state, customer, events);
  signUp(act, customer.signupAt);
  if (customer.status === "lead") {
    for (let at = customer.signupAt; at < Math.min(end, customer.signupAt + 14 * DAY); at += DAY) {
      tryProduct(act, at, Math.min(end, at + DAY));
    }
    return events.sort(byTime);
  }
  const subscribeAt = customer.subscribeAt!;
  for (let at = customer.signupAt; at < Math.min(end, subscribeAt); at += DAY) {
    tryProduct(act, at, Math.min(end, subscribeAt, at + DAY));
  }
  if (subscribeAt >= end) return events.sort(byTime);
  subscribe(act, subscribeAt);

  const dailyFrom = end - 30 * DAY;
  // A tenth of those still subscribed have gone quiet by the start.
  const quietFrom = chance(customer, 0.1) ? end - between(customer, 5, 40) * DAY : end;
  let monthStart = subscribeAt;
  while (customer.status !== "canceled") {
    const monthEnd = Math.min(end, customer.renewalAt!);
    usage(act, monthStart, Math.min(monthEnd, quietFrom), dailyFrom);
    if (chance(customer, state.options.monthlyChurn)) {
      const { reason, comment } = pickReason(customer);
      cancel(act, instant(customer, monthStart, monthEnd), reason, comment);
      break;
    }
    if (customer.renewalAt! >= end) break;
    const at = customer.renewalAt!;
    if (at > end - 25 * DAY && chance(customer, state.options.paymentFailure)) {
      failPayment(act, at);
      customer.renewalAt = addMonth(at);
      usage(act, at, Math.min(end, quietFrom), dailyFrom);
      break;
    }
    if (chance(customer, 0.05) && at + 4 * DAY < end) failPaymentThenPay(act, at);
    else renewPaid(act, at, end);
    customer.renewalAt = addMonth(at);
    monthStart = at;
  }
  if (customer.status !== "canceled" && quietFrom < end) customer.quiet = true;
  for (let k = between(customer, 0, 6) - 2; k > 0; k--) {
    const at = instant(customer, subscribeAt, customer.canceledAt ?? end);
    act.emit("order.completed", at, {
      amount: pick(customer, [900, 2500, 4900, 12000, 25000]),
      currency: act.currency,
    });
  }
  if (chance(customer, 0.12)) {
    const at = instant(customer, subscribeAt, customer.canceledAt ?? end);
    act.emit("referral.made", at, { referred_customer_id: `ref-${customer.id}-1` });
  }
  if (chance(customer, 0.4)) {
    act.emit("nps.submitted", instant(customer, subscribeAt, customer.canceledAt ?? end), {
      score: pick(customer, [2, 4, 6, 7, 8, 9, 9, 10]),
    });
  }
  return events.sort(byTime);
}

/** A failed renewal paid a few days later, before Rebound was there to remind anyone. */
function failPaymentThenPay(act: Act, at: number): void {
  const customer = act.customer;
  customer.invoices += 1;
  const payment = {
    invoice_id: `in_${customer.id}_${customer.invoices}`,
    amount: customer.mrr,
    currency: act.currency,
  };
  act.emit("payment.failed", at, { ...payment, decline_code: pick(customer, DECLINE_CODES) });
  act.emit("payment.succeeded", at + Math.floor(uniform(customer, HOUR, 4 * DAY)), payment);
}

/** Product use over [from, to): a few sessions a month before `dailyFrom`, day by day after it. */
function usage(act: Act, from: number, to: number, dailyFrom: number): void {
  const customer = act.customer;
  const coarseTo = Math.min(to, dailyFrom);
  if (from < coarseTo) {
    const sessions = Math.round(customer.engagement * 8 * ((coarseTo - from) / (30 * DAY)));
    for (let k = 0; k < sessions; k++) {
      act.emit("activity", instant(customer, from, coarseTo), { feature: pick(customer, FEATURES) });
    }
  }
  for (let day = Math.max(from, dailyFrom); day < to; day += DAY) {
    if (chance(customer, customer.engagement)) {
      act.emit("activity", instant(customer, day, Math.min(to, day + DAY)), {
        feature: pick(customer, FEATURES),
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Building blocks

/** A customer's actions on the world: emits their events with sequential ids. */
class Act {
  constructor(
    readonly state: WorldState,
    readonly customer: WorldCustomer,
    private readonly out: DemoEvent[],
  ) {}

  get currency(): string {
    return REGIONS[this.customer.region]!.currency;
  }

  emit(type: string, at: number, properties: Record<string, unknown>): void {
    this.customer.seq += 1;
    this.state.tally.events += 1;
    this.out.push({
      id: `${this.customer.id}.${this.customer.seq}`,
      type,
      customer_id: this.customer.id,
      occurred_at: new Date(at).toISOString(),
      properties,
    });
  }
}

function newCustomer(seed: number, n: number, signupAt: number): WorldCustomer {
  const id = `demo-${String(n).padStart(4, "0")}`;
  const customer: WorldCustomer = {
    id,
    rng: mix(seed ^ Math.imul(n, 0x9e3779b1)),
    seq: 0,
    region: 0,
    firstName: "",
    signupAt,
    status: "upcoming",
    engagement: 0,
    quiet: false,
    subscribeAt: null,
    plan: 0,
    mrr: 0,
    renewalAt: null,
    invoices: 0,
    canceledAt: null,
    reason: null,
    unpaid: null,
    resumeAt: null,
    ticketResolveAt: null,
    returnAt: null,
    returnDecision: null,
    returnAfterMessage: false,
    cancelAgainAt: null,
    messages: 0,
  };
  customer.region = REGIONS.indexOf(weighted(customer, REGIONS));
  customer.firstName = pick(customer, FIRST_NAMES);
  const kind = next(customer);
  // A fifth use it daily (the `engaged` segment), half a few times a week, the rest rarely.
  customer.engagement =
    kind < 0.2
      ? uniform(customer, 0.45, 0.8)
      : kind < 0.7
        ? uniform(customer, 0.15, 0.4)
        : uniform(customer, 0.04, 0.12);
  customer.plan = PLANS.indexOf(weighted(customer, PLANS));
  customer.mrr = priceOf(customer.plan, REGIONS[customer.region]!.currency);
  return customer;
}

function priceOf(plan: number, currency: string): number {
  const mrr = PLANS[plan]!.mrr;
  return currency === "USD" ? mrr : Math.round(mrr * 0.95);
}

function emptyTally(): DemoTally {
  return {
    historyEvents: 0,
    events: 0,
    signups: 0,
    subscriptions: 0,
    renewals: 0,
    upgrades: 0,
    downgrades: 0,
    paymentsFailed: 0,
    paidAfterReminder: 0,
    canceledByDunning: 0,
    cancelFlows: 0,
    offersShown: 0,
    offersAccepted: 0,
    offersDeclined: 0,
    cancellations: {},
    returnedAfterMessage: 0,
    returnedOnOwn: 0,
    winbackOffersAccepted: 0,
    canceledAgain: 0,
    nudgesAnswered: 0,
    messagesSeen: {},
  };
}

function customerOf(state: WorldState, id: string): WorldCustomer {
  const customer = state.customers.find((c) => c.id === id);
  if (!customer) throw new Error(`demo world: no customer ${id}`);
  return customer;
}

function addMonth(at: number): number {
  const date = new Date(at);
  const day = date.getUTCDate();
  const lastOfNext = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 2, 0)).getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + 1);
  date.setUTCDate(Math.min(day, lastOfNext));
  return date.getTime();
}

function byTime(a: DemoEvent, b: DemoEvent): number {
  return a.occurred_at.localeCompare(b.occurred_at) || a.id.localeCompare(b.id);
}

/** Scrambles a seed into a generator state, so neighbouring seeds start far apart. */
function mix(seed: number): number {
  let h = seed | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** The next float in [0, 1) of a generator whose state lives in `holder.rng` (mulberry32). */
function next(holder: { rng: number }): number {
  holder.rng = (holder.rng + 0x6d2b79f5) | 0;
  let t = Math.imul(holder.rng ^ (holder.rng >>> 15), 1 | holder.rng);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function chance(holder: { rng: number }, p: number): boolean {
  return next(holder) < p;
}

function uniform(holder: { rng: number }, low: number, high: number): number {
  return low + next(holder) * (high - low);
}

function between(holder: { rng: number }, low: number, high: number): number {
  return low + Math.floor(next(holder) * (high - low + 1));
}

/**
 * A moment's instant in [from, to − MOMENT_MARGIN): what follows it (an answer, the cancellation or
 * the reactivation, minutes later) still falls before the tick.
 */
function momentIn(holder: { rng: number }, from: number, to: number): number {
  return instant(holder, from, Math.max(from + 1, to - MOMENT_MARGIN));
}

/** A scheduled moment moved into [from, to − MOMENT_MARGIN]. */
function clampMoment(at: number, from: number, to: number): number {
  return Math.max(from, Math.min(at, to - MOMENT_MARGIN));
}

/** An instant (whole ms) in [from, to). */
function instant(holder: { rng: number }, from: number, to: number): number {
  return from + Math.floor(next(holder) * Math.max(1, to - from));
}

function pick<T>(holder: { rng: number }, items: readonly T[]): T {
  return items[Math.floor(next(holder) * items.length)]!;
}

function weighted<T extends { weight: number }>(holder: { rng: number }, items: readonly T[]): T {
  let roll = next(holder) * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1]!;
}

function poisson(holder: { rng: number }, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = next(holder); p > limit; p *= next(holder)) k++;
  return k;
}
