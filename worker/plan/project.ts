/**
 * What the scheduled programmes will do to ONE customer over a horizon, under one ruleset, computed
 * in memory from what D1 holds now: the same pure functions the tick calls (dunningPosition,
 * winbackPosition, inactivityDue, campaignAssignment, decideOffer, the due-occurrence and quiet-hour
 * rules), stepped through the instants at which something comes due. `rebound plan` runs it for the
 * base and the proposed ruleset and counts the difference (worker/plan/plan-page.ts).
 *
 * The model of time is the tick's: the first tick is at the plan's `now`, with the real watermarks
 * (so overdue steps the next tick would catch up are counted, and what it would skip is not), and the
 * cron runs as deployed after it (every few minutes), so every later step goes out when it comes due.
 * Within one instant the order is the tick's: campaigns, dunning, then the lifecycle programmes (a
 * customer canceled by a dunning final action enters win-back in the same tick). What the plan cannot
 * know is assumed not to happen: no new events (no payment recovers a failed invoice, nobody logs in).
 *
 * Offers a step carries are decided as the decision API does (decideOffer with the customer's offer
 * history for caps and cooldowns); a live outstanding offer is kept until it expires. What it does
 * not model: an answer to an offer, and withdrawals of a held offer.
 *
 * Stage: plan-page.ts reads a page (read-only), this file projects each customer, plan-page.ts adds up.
 */

import type { EvalContext, EventRecord, PastOffer, Ruleset, StepIR } from "../../dsl";
import {
  campaignAssignment,
  DAY_MS,
  decideOffer,
  dunningPosition,
  inactivityDue,
  occurrencesBetween,
  winbackPosition,
} from "../../dsl";
import type { CustomerRowJson } from "../tick/context";
import { dueOccurrences } from "../tick/due";
import { TICK_LIMITS } from "../tick/limits";
import { type CampaignStage, campaignStages, stepOffsets } from "../tick/stages";
import { customerTimeZone, sendTimeOutsideQuietHours } from "../tick/step-send";

/** A send already stored for the customer (the tick's anti-joins and frequency caps read these). */
export interface StoredSend {
  readonly kind: string;
  readonly key: string;
  readonly occurrence: string;
  readonly step: string;
  readonly createdAt: number;
  readonly dead: boolean;
}

/** A `dunning_cases` row of the customer (any status: one case per invoice, ever). */
export interface StoredCase {
  readonly invoiceId: string;
  readonly cadence: string;
  readonly status: string;
  readonly failedAt: number;
  readonly lastStep: string | null;
  /** The first `payment.succeeded` for the invoice (any time), null when none. */
  readonly paidAt: number | null;
}

/** A stored offer decision of the customer (decisions with an offer). */
export interface StoredOffer extends PastOffer {
  readonly status: string;
  readonly expiresAt: number | null;
}

/** Everything the projection knows about one customer. */
export interface CustomerFacts {
  readonly row: CustomerRowJson;
  readonly attributes: Record<string, unknown>;
  /** Events of the types the rules read (and cancellations), oldest first. */
  readonly events: readonly EventRecord[];
  readonly sends: readonly StoredSend[];
  readonly cases: readonly StoredCase[];
  readonly offers: readonly StoredOffer[];
  /** A `card.expiring` report exists at or before the plan's now. */
  readonly cardReported: boolean;
}

/** A campaign stage occurrence the plan covers, with what the tick already did with it. */
export interface PlannedOccurrence {
  readonly stage: CampaignStage;
  readonly occurrenceAt: number;
  /** Occurrence + the step's delay. */
  readonly dueAt: number;
  /** When the tick runs it: the first tick for a catch-up, otherwise its due time. */
  readonly runAt: number;
  /** Customers with an id at or before this were handled by the run already (a resumed run). */
  readonly handledThrough: string | null;
}

/** The ruleset-wide part of a projection, computed once per plan page. */
export interface ProjectionSetup {
  readonly ruleset: Ruleset;
  readonly now: number;
  readonly until: number;
  /** The lifecycle programmes' first window starts here (the tick's watermark rule). */
  readonly lifecycleFrom: number;
  readonly occurrences: readonly PlannedOccurrence[];
}

/** A setup's occurrences by the instant the tick runs them, and those instants in order. */
interface OccurrenceIndex {
  readonly byTime: ReadonlyMap<number, readonly PlannedOccurrence[]>;
  readonly times: readonly number[];
}

const indexes = new WeakMap<ProjectionSetup, OccurrenceIndex>();

function occurrenceIndex(setup: ProjectionSetup): OccurrenceIndex {
  let index = indexes.get(setup);
  if (!index) {
    const byTime = new Map<number, PlannedOccurrence[]>();
    for (const occurrence of setup.occurrences) {
      const list = byTime.get(occurrence.runAt) ?? [];
      list.push(occurrence);
      byTime.set(occurrence.runAt, list);
    }
    index = { byTime, times: [...byTime.keys()].sort((a, b) => a - b) };
    indexes.set(setup, index);
  }
  return index;
}

/** The first of the ascending `times` after `after`, or undefined. */
function firstAfter(times: readonly number[], after: number): number | undefined {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (times[middle]! <= after) low = middle + 1;
    else high = middle;
  }
  return times[low];
}

export type CampaignOutcome = "sent" | "deferred" | "holdout" | "frequency_capped" | "no_offer";

/** One thing the programmes do to the customer within the horizon. */
export interface ProjectedEffect {
  readonly programme: "dunning" | "winback" | "inactivity" | "card_expiry";
  readonly key: string;
  readonly step: string;
  readonly at: number;
  /** A send, or a dunning case reaching its final day (with whether it cancels). */
  readonly kind: "send" | "final";
  readonly cancels: boolean;
}

export interface CampaignEffect {
  readonly occurrence: PlannedOccurrence;
  readonly outcome: CampaignOutcome;
}

export interface Projection {
  readonly effects: ProjectedEffect[];
  readonly campaigns: CampaignEffect[];
}

/** The campaign stage occurrences a plan over (now, until] covers, as the ticks would run them. */
export function plannedOccurrences(
  ruleset: Ruleset,
  now: number,
  until: number,
  lastCleanTick: number | null,
  runs: ReadonlyMap<string, StoredRun>,
): PlannedOccurrence[] {
  const planned: PlannedOccurrence[] = [];
  const from = lastCleanTick === null || lastCleanTick >= now ? null : lastCleanTick;
  for (const campaign of ruleset.campaigns.values()) {
    for (const stage of campaignStages(campaign)) {
      // The first tick catches up exactly as the tick does (due.ts), then every occurrence runs when due.
      const first = dueOccurrences(stage, from ?? now - TICK_LIMITS.firstTickLookbackMs, now).run.map(
        (at) => ({ at, runAt: now }),
      );
      const later = occurrencesBetween(
        stage.campaign.schedule,
        stage.campaign.timezone,
        now - stage.offsetMs,
        until - stage.offsetMs,
        10_000,
      ).map((at) => ({ at, runAt: at + stage.offsetMs }));
      // Runs an earlier tick left unfinished (it died or ran out of budget) are resumed by the first
      // tick (campaigns.ts lapsedRuns), from their cursor, unless they are stale by then.
      const resumed = [...runs.entries()]
        .filter(
          ([key, run]) =>
            run.status === "running" &&
            run.occurrenceAt !== undefined &&
            key === runKey(campaign.key, run.occurrenceAt, stage),
        )
        .map(([, run]) => ({ at: run.occurrenceAt!, runAt: now }));
      const seen = new Set<number>();
      for (const { at, runAt } of [...resumed, ...first, ...later]) {
        if (seen.has(at)) continue;
        seen.add(at);
        const run = runs.get(runKey(campaign.key, at, stage));
        if (run && run.status !== "running") continue;
        planned.push({
          stage,
          occurrenceAt: at,
          dueAt: at + stage.offsetMs,
          runAt,
          handledThrough: run?.cursor ?? null,
        });
      }
    }
  }
  return planned;
}

/** A `campaign_runs` row the plan looked at (runKey → this). */
export interface StoredRun {
  readonly status: string;
  readonly cursor: string | null;
  /** The occurrence instant (set for every row read). */
  readonly occurrenceAt?: number;
}

/** The `campaign_runs` key of an occurrence of a stage. */
export function runKey(campaign: string, occurrenceAt: number, stage: CampaignStage): string {
  return `${campaign}\u0000${new Date(occurrenceAt).toISOString()}\u0000${stage.step}\u0000${stage.offsetMs}`;
}

interface SimSend {
  readonly kind: string;
  readonly key: string;
  readonly occurrence: string;
  readonly step: string;
  readonly at: number;
  /** A send that gave up: it still blocks a repeat, but counts for no cap and starts no next step. */
  readonly dead?: boolean;
}

interface SimCase {
  readonly invoiceId: string;
  readonly cadence: string;
  readonly failedAt: number;
  lastStep: string | null;
  open: boolean;
  readonly paidAt: number | null;
}

/** Projects one customer under `setup.ruleset` from `setup.now` to `setup.until`. */
export function projectCustomer(setup: ProjectionSetup, facts: CustomerFacts): Projection {
  return new CustomerSimulation(setup, facts).run();
}

class CustomerSimulation {
  private readonly ruleset: Ruleset;
  private customer: Record<string, unknown>;
  private events: EventRecord[];
  private readonly sent: SimSend[] = [];
  private readonly sentKeys = new Set<string>();
  private readonly cases: SimCase[];
  private readonly offers: StoredOffer[];
  private readonly effects: ProjectedEffect[] = [];
  private readonly campaigns: CampaignEffect[] = [];
  private readonly occurrences: OccurrenceIndex;

  constructor(
    private readonly setup: ProjectionSetup,
    private readonly facts: CustomerFacts,
  ) {
    this.ruleset = setup.ruleset;
    this.occurrences = occurrenceIndex(setup);
    this.customer = { ...facts.row, attributes: facts.attributes };
    this.events = [...facts.events];
    for (const send of facts.sends) this.remember({ ...send, at: send.createdAt });
    this.cases = facts.cases.map((stored) => ({
      invoiceId: stored.invoiceId,
      cadence: stored.cadence,
      failedAt: stored.failedAt,
      lastStep: stored.lastStep,
      open: stored.status === "open",
      paidAt: stored.paidAt,
    }));
    this.offers = [...facts.offers];
  }

  run(): Projection {
    const { now, until } = this.setup;
    this.tick(now, this.setup.lifecycleFrom);
    let previous = now;
    for (let guard = 0; guard < 10_000; guard++) {
      const next = this.nextDue(previous);
      if (next === null || next > until) break;
      this.tick(next, previous);
      previous = next;
    }
    return { effects: this.effects, campaigns: this.campaigns };
  }

  private ctx(at: number): EvalContext {
    return {
      now: at,
      customer: this.customer,
      events: this.events.filter((event) => event.occurred_at <= at),
    };
  }

  private remember(send: SimSend): void {
    this.sent.push(send);
    this.sentKeys.add(sendKey(send.kind, send.key, send.occurrence, send.step));
  }

  private wasSent(kind: string, key: string, occurrence: string, step: string): boolean {
    return this.sentKeys.has(sendKey(kind, key, occurrence, step));
  }

  /** A live (not dead) send of the key: what a campaign's next step requires (audience.ts). */
  private liveSend(kind: string, key: string, occurrence: string, step: string): boolean {
    return this.sent.some(
      (send) =>
        !send.dead &&
        send.kind === kind &&
        send.key === key &&
        send.occurrence === occurrence &&
        send.step === step,
    );
  }

  /** One tick at `at`: campaigns, dunning, lifecycle (window (from, at]). */
  private tick(at: number, lifecycleFrom: number): void {
    for (const occurrence of this.occurrences.byTime.get(at) ?? []) this.campaignStep(occurrence, at);
    this.dunning(at);
    this.lifecycle(lifecycleFrom, at);
  }

  /** The earliest instant after `after` at which anything of this customer comes due. */
  private nextDue(after: number): number | null {
    let next: number | null = null;
    const consider = (at: number) => {
      if (at > after && (next === null || at < next)) next = at;
    };
    const occurrence = firstAfter(this.occurrences.times, after);
    if (occurrence !== undefined) consider(occurrence);
    for (const simCase of this.cases) {
      if (!simCase.open) continue;
      const cadence = this.ruleset.dunning.find((candidate) => candidate.ir.key === simCase.cadence);
      if (!cadence) continue;
      for (const step of cadence.ir.steps) consider(simCase.failedAt + step.day * DAY_MS);
      consider(simCase.failedAt + cadence.ir.final.day * DAY_MS);
    }
    const c = this.customer;
    if (typeof c.payment_failed_at === "number") consider(c.payment_failed_at);
    if (c.status === "canceled" && typeof c.canceled_at === "number") {
      for (const sequence of this.ruleset.winback)
        for (const step of sequence.ir.steps) consider(c.canceled_at + (step.day ?? 0) * DAY_MS);
    }
    const spell = spellStart(c);
    if (c.status === "active" && spell !== null) {
      for (const rule of this.ruleset.inactivity) consider(spell + rule.ir.afterMs);
    }
    const expiry = this.ruleset.cardExpiry;
    if (expiry && typeof c.card_expires_at === "number") {
      for (const daysBefore of expiry.daysBefore) consider(c.card_expires_at - daysBefore * DAY_MS);
    }
    return next;
  }

  private campaignStep(planned: PlannedOccurrence, at: number): void {
    const { stage } = planned;
    const campaign = stage.campaign;
    const id = String(this.customer.id);
    if (planned.handledThrough !== null && id <= planned.handledThrough) return;
    // A run unfinished for a day after it was due expires unsent (claims.ts).
    if (at - planned.dueAt > TICK_LIMITS.staleRunMs) return;
    const occurrence = new Date(planned.occurrenceAt).toISOString();
    const step = String(stage.step);
    if (this.wasSent("campaign", campaign.key, occurrence, step)) return;
    if (stage.step > 0 && !this.liveSend("campaign", campaign.key, occurrence, String(stage.step - 1)))
      return;
    if (!campaign.audience.test(this.ctx(planned.dueAt))) return;
    const assignment = campaignAssignment(campaign, id);
    if (assignment.holdout) {
      this.campaigns.push({ occurrence: planned, outcome: "holdout" });
      return;
    }
    const stepIR = assignment.steps[stage.step];
    if (!stepIR || stepOffsets(assignment.steps)[stage.step] !== stage.offsetMs) return;
    const capKey = campaign.ir.frequencyCap;
    const cap = capKey === null ? undefined : this.ruleset.frequencyCaps.get(capKey);
    if (cap) {
      const capCampaigns = capClasses(this.ruleset).get(capKey!)!;
      const recent = this.sent.filter(
        (send) =>
          !send.dead && send.kind === "campaign" && capCampaigns.has(send.key) && send.at >= at - cap.perMs,
      ).length;
      if (recent >= cap.max) {
        this.campaigns.push({ occurrence: planned, outcome: "frequency_capped" });
        return;
      }
    }
    const outcome = this.stepSend(stepIR, campaign.ir.offerContext, at);
    if (outcome === "no_offer") {
      this.campaigns.push({ occurrence: planned, outcome: "no_offer" });
      return;
    }
    this.remember({ kind: "campaign", key: campaign.key, occurrence, step, at });
    const quiet = campaign.quietHours;
    const deferred =
      quiet !== null &&
      sendTimeOutsideQuietHours(customerTimeZone(this.ruleset, this.customer), at, quiet) > at;
    this.campaigns.push({ occurrence: planned, outcome: deferred ? "deferred" : "sent" });
  }

  /**
   * Whether a step goes out (worker/tick/step-send.ts): a step without an offer always does; one with
   * an offer when the customer holds a live offer or the rules give one, else its fallback message.
   */
  private stepSend(
    content: Pick<StepIR, "message" | "offer" | "fallbackMessage">,
    context: "winback" | "in_app" | "dunning" | "cancel_flow",
    at: number,
  ): "send" | "no_offer" {
    if (content.offer === null) return content.message === null ? "no_offer" : "send";
    const held = this.offers.find(
      (offer) => offer.status === "outstanding" && offer.expiresAt !== null && offer.expiresAt > at,
    );
    if (held) return "send";
    const decision = decideOffer(this.ruleset, this.ctx(at), {
      context,
      history: {
        offers: this.offers.filter((offer) => offer.status !== "withdrawn" && offer.status !== "superseded"),
        cancellations: this.events
          .filter((event) => event.type === "subscription.canceled" && event.occurred_at <= at)
          .map((event) => event.occurred_at),
      },
      ...(content.offer === "best" ? {} : { only: [content.offer] }),
    });
    if (decision.offer) {
      this.offers.push({
        offerKey: decision.offer.key,
        rewardKind: decision.offer.reward.kind,
        at,
        redeemedAt: null,
        status: "outstanding",
        expiresAt: decision.offer.expiresAt,
      });
      return content.message !== null || decision.offer.message !== null ? "send" : "no_offer";
    }
    return content.fallbackMessage !== null ? "send" : "no_offer";
  }

  private dunning(at: number): void {
    const c = this.customer;
    // openCases: an open failure at or before now, not canceled, with no case for its invoice yet.
    if (typeof c.payment_failed_at === "number" && c.payment_failed_at <= at && c.status !== "canceled") {
      const invoiceId =
        typeof c.failed_invoice_id === "string" ? c.failed_invoice_id : `failed@${c.payment_failed_at}`;
      if (!this.cases.some((simCase) => simCase.invoiceId === invoiceId)) {
        const position = dunningPosition(this.ruleset, this.ctx(at));
        if (position) {
          this.cases.push({
            invoiceId,
            cadence: position.cadence.ir.key,
            failedAt: position.paymentFailedAt,
            lastStep: null,
            open: true,
            paidAt: null,
          });
        }
      }
    }
    for (const simCase of this.cases) {
      if (!simCase.open || simCase.failedAt > at) continue;
      if (simCase.paidAt !== null && simCase.paidAt <= at) {
        simCase.open = false;
        continue;
      }
      const cadence = this.ruleset.dunning.find((candidate) => candidate.ir.key === simCase.cadence);
      if (!cadence) continue; // the tick logs it and leaves the case open
      const elapsed = at - simCase.failedAt;
      const programme = { kind: "dunning", key: cadence.ir.key, occurrence: simCase.invoiceId };
      if (elapsed >= cadence.ir.final.day * DAY_MS) {
        const final = cadence.ir.final;
        const cancels = final.actions.includes("cancel") && c.status !== "canceled";
        if (final.message !== null) this.send("dunning", programme, "final", at);
        if (final.actions.includes("webhook")) this.send("dunning", programme, "final-webhook", at);
        this.effects.push({
          programme: "dunning",
          key: cadence.ir.key,
          step: "final",
          at,
          kind: "final",
          cancels,
        });
        simCase.open = false;
        if (cancels) this.cancel(simCase.invoiceId, at);
        continue;
      }
      if (c.status === "canceled" && typeof c.canceled_at === "number" && c.canceled_at <= at) {
        simCase.open = false;
        continue;
      }
      let latest: number | null = null;
      cadence.ir.steps.forEach((step, index) => {
        if (elapsed >= step.day * DAY_MS) latest = index;
      });
      if (latest === null) continue;
      const stepKey = `day-${cadence.ir.steps[latest]!.day}`;
      if (simCase.lastStep === stepKey) continue;
      this.send("dunning", programme, stepKey, at);
      simCase.lastStep = stepKey;
    }
  }

  /** Records a programme send unless its key was already sent (enqueueSends' unique key). */
  private send(
    programme: ProjectedEffect["programme"],
    target: { kind: string; key: string; occurrence: string },
    step: string,
    at: number,
  ): void {
    if (this.wasSent(target.kind, target.key, target.occurrence, step)) return;
    this.remember({ ...target, step, at });
    this.effects.push({ programme, key: target.key, step, at, kind: "send", cancels: false });
  }

  /** A dunning final action's cancellation, as ingest folds it into the profile. */
  private cancel(invoiceId: string, at: number): void {
    this.customer = { ...this.customer, status: "canceled", canceled_at: at, churn_reason: "payment_failed" };
    this.events = [
      ...this.events,
      {
        id: `rebound:dunning:${String(this.customer.id)}:${invoiceId}:cancel`,
        type: "subscription.canceled",
        occurred_at: at,
        properties: { invoice_id: invoiceId, reason: "payment_failed" },
      },
    ];
  }

  /** Win-back, inactivity and card expiry steps due in (from, at]. */
  private lifecycle(from: number, at: number): void {
    const c = this.customer;
    const ruleset = this.ruleset;
    if (c.status === "canceled" && typeof c.canceled_at === "number" && typeof c.churn_reason === "string") {
      const canceledAt = c.canceled_at;
      for (const sequence of ruleset.winback) {
        if (!sequence.ir.reasons.includes(c.churn_reason)) continue;
        for (const step of sequence.ir.steps) {
          const due = canceledAt + (step.day ?? 0) * DAY_MS;
          if (due <= from || due > at) continue;
          const occurrence = new Date(canceledAt).toISOString();
          const stepKey = `day-${step.day ?? 0}`;
          if (this.wasSent("winback", sequence.ir.key, occurrence, stepKey)) continue;
          if (winbackPosition(ruleset, this.ctx(at))?.sequence.ir.key !== sequence.ir.key) continue;
          if (this.stepSend(step, "winback", at) === "no_offer") continue;
          this.send("winback", { kind: "winback", key: sequence.ir.key, occurrence }, stepKey, at);
        }
      }
    }
    const spell = spellStart(c);
    if (c.status === "active" && spell !== null) {
      for (const rule of ruleset.inactivity) {
        const due = spell + rule.ir.afterMs;
        if (due <= from || due > at) continue;
        const occurrence = new Date(spell).toISOString();
        if (this.wasSent("inactivity", rule.ir.key, occurrence, "0")) continue;
        if (!inactivityDue(ruleset, this.ctx(at)).some((candidate) => candidate.rule.ir.key === rule.ir.key))
          continue;
        if (this.stepSend(rule.ir.step, "in_app", at) === "no_offer") continue;
        this.send("inactivity", { kind: "inactivity", key: rule.ir.key, occurrence }, "0", at);
      }
    }
    const expiry = ruleset.cardExpiry;
    const expiresAt = c.card_expires_at;
    if (expiry && typeof expiresAt === "number" && c.status !== "canceled" && this.facts.cardReported) {
      const smallest = Math.min(...expiry.daysBefore);
      for (const daysBefore of expiry.daysBefore) {
        const offset = daysBefore * DAY_MS;
        // lifecycle.ts: the last reminder reaches any card not yet expired; the others only in the window.
        const lower = daysBefore === smallest ? at : Math.max(at, from + offset);
        if (!(expiresAt > lower && expiresAt <= at + offset)) continue;
        const occurrence = new Date(expiresAt).toISOString();
        this.send(
          "card_expiry",
          { kind: "card_expiry", key: "card_expiry", occurrence },
          `${daysBefore}d-before`,
          at,
        );
      }
    }
  }
}

const capClassCache = new WeakMap<Ruleset, ReadonlyMap<string, ReadonlySet<string>>>();

/**
 * The campaigns of each frequency-cap class, once per ruleset (every customer of every page asks for
 * them at every capped occurrence).
 */
function capClasses(ruleset: Ruleset): ReadonlyMap<string, ReadonlySet<string>> {
  let classes = capClassCache.get(ruleset);
  if (!classes) {
    const built = new Map<string, Set<string>>();
    for (const campaign of ruleset.campaigns.values()) {
      const key = campaign.ir.frequencyCap;
      if (key === null) continue;
      const members = built.get(key) ?? new Set<string>();
      members.add(campaign.key);
      built.set(key, members);
    }
    classes = built;
    capClassCache.set(ruleset, classes);
  }
  return classes;
}

function spellStart(customer: Record<string, unknown>): number | null {
  for (const value of [customer.last_active_at, customer.signed_up_at, customer.first_seen_at])
    if (typeof value === "number") return value;
  return null;
}

function sendKey(kind: string, key: string, occurrence: string, step: string): string {
  return `${kind}\u0000${key}\u0000${occurrence}\u0000${step}`;
}
