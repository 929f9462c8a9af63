/**
 * A dry tick's recorder: what the tick would have written, kept in memory instead. runTick threads
 * one through `TickContext.dryRun`, and every programme runs its real code; only the write sites
 * branch here: sends are rendered and listed instead of stored and queued, decisions listed instead
 * of stored, exclusions, dunning opens, closes and cancellations listed, claims checked instead of
 * taken. The handles the dry tick holds refuse writes anyway (read-only-db.ts).
 *
 * A later read of the real tick that would see an earlier write of the same tick is answered from
 * here: the cases openCases would open are progressed in the same dry tick, a campaign stage already
 * run counts towards frequency caps and the next step's audience, a claim is not taken twice, a send
 * key is not sent twice, and a customer the dunning final action cancels gets no card-expiry reminder.
 * Not seen (README "Dry runs"): a second offer decision for one customer in the same tick does not
 * see the first, and a win-back step due the moment the final action cancels is not listed.
 *
 * Flow: admin route (`"dry_run": true`) → runTick with a DryRunEffects → programmes → this file →
 * the response's `effects`.
 */
import { type Ruleset, renderSend } from "../../dsl";
import type { ExclusionReason } from "../db/schema/campaign-exclusions";
import type { DecisionResult } from "../decisions/decide-and-record";
import type { Env } from "../env";
import { templateValues } from "../sends/consume";
import { type EnqueueResult, previewSends } from "../sends/enqueue";
import { SEND_LIMITS } from "../sends/limits";
import type { SendRequest, TemplateVariables } from "../sends/types";
import { TICK_LIMITS } from "./limits";

/** A send the tick would store, rendered as the consumer would deliver it. */
export interface DrySend {
  programme_kind: string;
  programme_key: string;
  occurrence: string;
  step: string;
  customer_id: string;
  channel: string;
  message_key: string;
  /** When it would be delivered (ISO): the tick's time, or the end of the customer's quiet hours. */
  send_at: string;
  offer_key: string | null;
  /** Null when the message is not in the ruleset (the consumer would mark the send dead). */
  subject: string | null;
  body: string | null;
}

export interface DryDecision {
  customer_id: string;
  context: string;
  offer_key: string | null;
  expires_at: string | null;
  /** `created`: the tick would store it; `outstanding`: the customer's held offer is reused. */
  outcome: DecisionResult["outcome"];
}

export interface DryExclusion {
  campaign: string;
  occurrence: string;
  step: string;
  customer_id: string;
  reason: ExclusionReason;
  detail: string | null;
}

export interface DryCaseRef {
  customer_id: string;
  invoice_id: string;
  cadence: string;
}

export interface DryClosedCase extends DryCaseRef {
  status: "recovered" | "canceled" | "final";
  /** The final actions run (final only). */
  actions: string[] | null;
}

/** A case openCases would open, as progressCases needs it in the same dry tick. */
export interface DryOpenedCase extends DryCaseRef {
  failed_at: number;
  amount: number | null;
  currency: string;
}

/** What the archiver and the erasures would do (the dry tick runs neither). */
export interface DryArchive {
  /** Why nothing would be archived, when nothing could be. */
  skipped: "no_retention" | "no_bucket" | null;
  /** The UTC day the archiver would work on (ISO date), or null when every due day is archived. */
  day: string | null;
  /** Erasures whose archive rewrite the tick would continue. */
  erasures_to_continue: number;
  note: string;
}

/** A list that keeps its first entries and counts the rest. */
class CappedList<T> {
  readonly items: T[] = [];
  total = 0;

  constructor(private readonly cap: number) {}

  push(item: T): void {
    this.total += 1;
    if (this.items.length < this.cap) this.items.push(item);
  }

  get leftOut(): number {
    return this.total - this.items.length;
  }
}

const sendKey = (kind: string, key: string, occurrence: string, step: string, customerId: string) =>
  JSON.stringify([kind, key, occurrence, step, customerId]);

/** Records what a dry tick would write. One per dry tick. */
export class DryRunEffects {
  readonly sends: CappedList<DrySend>;
  readonly decisions: CappedList<DryDecision>;
  readonly exclusions: CappedList<DryExclusion>;
  readonly opened: CappedList<DryCaseRef>;
  readonly closed: CappedList<DryClosedCase>;
  readonly cancellations: CappedList<DryCaseRef>;
  republish = 0;
  archive: DryArchive | null = null;

  /** Every send key recorded (uncapped): a second request for one is a duplicate, as in the table. */
  private readonly sendKeys = new Set<string>();
  /** Campaign sends recorded, per customer and campaign (frequency caps). */
  private readonly campaignSends = new Map<string, Map<string, number>>();
  /** Customers recorded per campaign stage occurrence (the next step's audience). */
  private readonly stageCustomers = new Map<string, string[]>();
  /** Campaign run claims this dry tick holds, by (campaign, occurrence, step, offset). */
  private readonly heldRuns = new Set<string>();
  /** Runs whose stage this dry tick ran (a run claimed by a tick counts for another run's cap). */
  private readonly ranRuns: { campaign: string; run: string }[] = [];
  private readonly openedCases: DryOpenedCase[] = [];
  private readonly canceledCustomers = new Set<string>();

  constructor(listLimit: number = TICK_LIMITS.dryRunListLimit) {
    this.sends = new CappedList(listLimit);
    this.decisions = new CappedList(listLimit);
    this.exclusions = new CappedList(listLimit);
    this.opened = new CappedList(listLimit);
    this.closed = new CappedList(listLimit);
    this.cancellations = new CappedList(listLimit);
  }

  /**
   * What enqueueSends would do with `sends`, without doing it: the same validation and rows
   * (worker/sends/enqueue.ts `previewSends`), a send already stored or already recorded by this dry
   * tick is a duplicate, and each new one is recorded with its message rendered.
   */
  async recordSends(
    env: Env,
    ruleset: Ruleset,
    sends: readonly SendRequest[],
    now: number,
  ): Promise<EnqueueResult> {
    const previews = await previewSends(env, sends, now);
    const createdIds: string[] = [];
    let published = 0;
    const horizon = now + SEND_LIMITS.maxQueueDelaySeconds * 1000;
    for (const { row, exists } of previews) {
      const key = sendKey(row.programme_kind, row.programme_key, row.occurrence, row.step, row.customer_id);
      if (exists || this.sendKeys.has(key)) continue;
      this.sendKeys.add(key);
      createdIds.push(row.id);
      if (row.not_before <= horizon) published += 1;
      const variables = JSON.parse(row.variables) as TemplateVariables;
      const rendered = renderSend(
        ruleset,
        row.message_key,
        templateValues(variables, env.COMPANY_NAME),
        env.COMPANY_NAME,
      );
      this.sends.push({
        programme_kind: row.programme_kind,
        programme_key: row.programme_key,
        occurrence: row.occurrence,
        step: row.step,
        customer_id: row.customer_id,
        channel: row.channel,
        message_key: row.message_key,
        send_at: new Date(row.not_before).toISOString(),
        offer_key: typeof variables.offer_key === "string" ? variables.offer_key : null,
        subject: rendered?.subject ?? null,
        body: rendered?.body ?? null,
      });
      if (row.programme_kind === "campaign") {
        const perCampaign = this.campaignSends.get(row.customer_id) ?? new Map<string, number>();
        perCampaign.set(row.programme_key, (perCampaign.get(row.programme_key) ?? 0) + 1);
        this.campaignSends.set(row.customer_id, perCampaign);
        const stage = JSON.stringify([row.programme_key, row.occurrence, row.step]);
        const customers = this.stageCustomers.get(stage) ?? [];
        customers.push(row.customer_id);
        this.stageCustomers.set(stage, customers);
      }
    }
    return {
      createdIds,
      duplicates: sends.length - createdIds.length,
      published,
      deferred: createdIds.length - published,
    };
  }

  /** A decision a step's offer made (decideAndRecord with `dryRun`). */
  recordDecision(result: DecisionResult): void {
    const decision = result.decision;
    this.decisions.push({
      customer_id: decision.customerId,
      context: decision.context,
      offer_key: decision.offer?.key ?? null,
      expires_at: decision.offer ? new Date(decision.offer.expiresAt).toISOString() : null,
      outcome: result.outcome,
    });
  }

  recordExclusions(
    stage: { campaign: string; occurrence: string; step: string },
    exclusions: readonly Omit<DryExclusion, "campaign" | "occurrence" | "step">[],
  ): void {
    for (const exclusion of exclusions) this.exclusions.push({ ...stage, ...exclusion });
  }

  /**
   * Takes a claim on a campaign stage occurrence for this dry tick. False when this dry tick
   * already holds it (the real tick's first claim would have made the second find it held).
   */
  holdRun(campaign: string, occurrence: string, step: string, offsetMs: number): boolean {
    const key = JSON.stringify([campaign, occurrence, step, offsetMs]);
    if (this.heldRuns.has(key)) return false;
    this.heldRuns.add(key);
    return true;
  }

  /** Notes that this dry tick ran `run` of `campaign` (the real tick would have stamped its row). */
  noteRun(campaign: string, run: string): void {
    this.ranRuns.push({ campaign, run });
  }

  /** Whether this dry tick ran a stage of one of `campaigns` other than `run`. */
  ranOtherRun(campaigns: readonly string[], run: string): boolean {
    return this.ranRuns.some((ran) => ran.run !== run && campaigns.includes(ran.campaign));
  }

  /** `counts` (recent sends of a cap class, from D1) plus the ones this dry tick recorded. */
  withRecordedCampaignSends(
    counts: ReadonlyMap<string, number>,
    customerIds: readonly string[],
    campaigns: readonly string[],
  ): Map<string, number> {
    const total = new Map(counts);
    for (const customerId of customerIds) {
      const perCampaign = this.campaignSends.get(customerId);
      if (!perCampaign) continue;
      let recorded = 0;
      for (const campaign of campaigns) recorded += perCampaign.get(campaign) ?? 0;
      if (recorded > 0) total.set(customerId, (total.get(customerId) ?? 0) + recorded);
    }
    return total;
  }

  /** Customers this dry tick sent one stage occurrence of a campaign. */
  customersSent(campaign: string, occurrence: string, step: string): readonly string[] {
    return this.stageCustomers.get(JSON.stringify([campaign, occurrence, step])) ?? [];
  }

  openCase(opened: DryOpenedCase): void {
    this.openedCases.push(opened);
    this.opened.push({
      customer_id: opened.customer_id,
      invoice_id: opened.invoice_id,
      cadence: opened.cadence,
    });
  }

  /** The cases this dry tick opened, for progressCases to walk after the stored ones. */
  casesOpened(): readonly DryOpenedCase[] {
    return this.openedCases;
  }

  closeCase(closed: DryClosedCase): void {
    this.closed.push(closed);
  }

  /** The final action's `subscription.canceled` event the tick would write through ingest. */
  cancel(canceled: DryCaseRef): void {
    this.canceledCustomers.add(canceled.customer_id);
    this.cancellations.push(canceled);
  }

  /** Whether this dry tick canceled the customer (the real profile would say `canceled` from here on). */
  canceled(customerId: string): boolean {
    return this.canceledCustomers.has(customerId);
  }

  /** The response's `effects` and `truncated`. */
  toJSON() {
    return {
      effects: {
        sends: this.sends.items,
        decisions: this.decisions.items,
        dunning: {
          opened: this.opened.items,
          closed: this.closed.items,
          cancellations: this.cancellations.items,
        },
        exclusions: this.exclusions.items,
        republish: this.republish,
        archive: this.archive,
      },
      truncated: {
        sends: this.sends.leftOut,
        decisions: this.decisions.leftOut,
        exclusions: this.exclusions.leftOut,
        dunning_opened: this.opened.leftOut,
        dunning_closed: this.closed.leftOut,
        dunning_cancellations: this.cancellations.leftOut,
      },
    };
  }
}
