/**
 * Decision stage 2 and 3 of 3 (read → evaluate → write): the one way a decision is made and stored,
 * for the decision API and for campaign messages that carry an offer alike, so both share the same
 * record, expiry, caps, cooldowns, anti-abuse guard and experiment buckets.
 *
 * One D1 round trip reads (worker/decisions/read-state.ts), the rules decide in memory
 * (dsl/runtime/decide.ts), one round trip writes (the loser of a race for the outstanding slot reads once
 * more, to answer with the winner). A customer has at most one outstanding offer: asking again
 * returns it unchanged (same id, same expiry) until it expires or is accepted or declined. Two
 * concurrent decisions cannot both create one: the partial unique index decisions_one_outstanding
 * turns the second INSERT into a no-op, and that request reads and returns the winner.
 */

import type { EvalContext, OfferContext, Ruleset } from "../../dsl";
import {
  bucketOf,
  type ChosenOffer,
  decideOffer,
  type HeldOffer,
  heldOfferOutranks,
  heldOfferServes,
  type OfferDecision,
  type OfferTraceEntry,
  offerInputs,
  renderMessage,
  rewardCost,
  rewardIn,
  rewardJson,
  withdrawalOf,
} from "../../dsl";
import { isErased } from "../customer-key";
import type { StoredKey } from "../db/api-key-lookup";
import { customerSlot } from "../db/shards";
import { ApiError } from "../errors";
import { newDecisionId } from "../ids";
import { localDay, reportingZone } from "../metrics/days";
import { type DecisionRuleset, decisionRulesetOf } from "./decision-ruleset";
import { type DecisionState, readDecisionState } from "./read-state";
import {
  DECISION_COLUMNS,
  type DecisionRow,
  isExpired,
  type StoredDecision,
  storedDecisionOf,
} from "./stored-decision";

/** The bindings a decision needs (a subset of the Worker's Env). */
export interface DecisionEnv {
  /** The customer's shard (worker/db/shards.ts `customerShard`): `DB` itself with one database. */
  readonly DB: D1Database;
  /** Shown in offer messages as {{company_name}}. */
  readonly COMPANY_NAME: string;
}

export interface DecideRequest {
  readonly customerId: string;
  readonly context: OfferContext;
  /** The decision's instant (epoch ms): the request's time, or the tick's scheduledTime. */
  readonly now: number;
  /** The reason picked in the cancel flow, before any cancellation event exists. */
  readonly reason?: string | null;
  /** Merged into the profile's custom attributes for this decision only (never stored on the profile). */
  readonly attributes?: Readonly<Record<string, string | number | boolean | null>> | null;
  /** Consider only these offers (a campaign step naming its offers). */
  readonly only?: readonly string[] | null;
  /** Keep the rule trace (with condition values) for `?explain=1`. */
  readonly explain?: boolean;
  /** Who asked: recorded on the decision. Default `api`. */
  readonly source?: "api" | "campaign";
  /**
   * The caller's API key, when the route folds its lookup into the read (decision routes): `hash` is
   * looked up in the read's statement, and `admit` gets the key row it found right after the read,
   * so an unknown key or a missing scope throws before anything is decided.
   */
  readonly foldedKey?: FoldedKey | null;
  /**
   * Decide without storing (a dry tick, worker/tick/dry-run.ts): every read and the whole
   * evaluation run, then the answer is returned as it would be (`created` with the decision it
   * would store, or `outstanding` / `repeated`) and nothing is written. A race with a concurrent
   * ask, which only the write can detect, is not seen.
   */
  readonly dryRun?: boolean;
}

/**
 * An API key lookup folded into the decision read. The route builds it from its key check
 * (worker/auth/authenticate.ts `FoldedKeyCheck`); the decision only carries the hash and the answer.
 */
export interface FoldedKey {
  /** The key's hash; null when nothing is left to look up (the caller is already known). */
  readonly hash: string | null;
  /** Accepts the key row the read found (null: unknown or revoked), or throws to refuse the ask. */
  readonly admit: (found: StoredKey | null) => void;
}

/** What an ask did with the offer the customer held. */
export interface HeldOfferOutcome {
  readonly decisionId: string;
  readonly offerKey: string | null;
  readonly kept: boolean;
  readonly why: string;
}

const KEPT_WHY = "it answers this ask (stable answers: the same offer until it is answered or expires)";
const CONCURRENT_WHY =
  "answered or replaced by a concurrent request before this ask stored an offer: the answer is the customer's newest offer";

export interface DecisionResult {
  readonly decision: StoredDecision;
  /**
   * `created`: this call decided and stored a new decision. `outstanding`: the customer already had
   * an outstanding offer (from an earlier or a concurrent call), returned unchanged. `repeated`: the
   * decision gave no offer, exactly as the customer's last one in this context did, and that stored
   * decision is returned instead of a copy (nothing written).
   */
  readonly outcome: "created" | "outstanding" | "repeated";
  /**
   * The offer as the rules know it, for rendering it into a message (campaigns); null when there is
   * no offer or the outstanding one was made by a ruleset whose reward no longer exists.
   */
  readonly chosenOffer: ChosenOffer | null;
  /** Every offer looked at and why it was or was not chosen; null unless `explain` and created. */
  readonly trace: readonly OfferTraceEntry[] | null;
  /**
   * The offer the customer held (outstanding) when asked, and what this ask did with it: kept
   * (returned unchanged) or not (withdrawn or superseded), and why. Null when they held none.
   */
  readonly held: HeldOfferOutcome | null;
  /** D1 rows read and written by this decision (both round trips, the folded key lookup included). */
  readonly rowsRead: number;
  readonly rowsWritten: number;
}

const EXPIRE_SQL = "UPDATE decisions SET status = 'expired' WHERE id = ?1 AND status = 'outstanding'";

// An answer that commits first wins: an offer accepted or declined meanwhile stays so.
// ?2: the reporting day of the change, for the metrics trigger (migrations/0008_metrics.sql).
const WITHDRAW_SQL =
  "UPDATE decisions SET status = 'withdrawn', closed_day = ?2 WHERE id = ?1 AND status = 'outstanding'";

const SUPERSEDE_SQL =
  "UPDATE decisions SET status = 'superseded', closed_day = ?2 WHERE id = ?1 AND status = 'outstanding'";

// ?21: for a new offer, the read's `offerSeq`. An offer decision stored after the read (by a
// concurrent ask, and already answered, so decisions_one_outstanding did not stop this one) was not
// counted in this decision's caps and cooldowns: store nothing and answer with that offer instead.
// NULL for a decision without an offer, which no cap or cooldown concerns.
// ?22: the offer this one supersedes (NULL otherwise). The batch superseded it just before, unless
// the customer answered it meanwhile: then they have their answer, and nothing is stored.
// ?23, ?24: the reporting days of created_at and expires_at, for the metrics triggers.
const INSERT_SQL = `
INSERT INTO decisions (id, customer_id, context, reason, offer_key, reward, message, reason_code, why,
  experiment, variant, holdout, ruleset_version, inputs, cost, cost_currency, source, created_at,
  expires_at, status, responded_at, day, expires_day)
SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, NULL, ?23, ?24
WHERE (?21 IS NULL OR NOT EXISTS (
  SELECT 1 FROM decisions WHERE customer_id = ?2 AND offer_key IS NOT NULL AND rowid > ?21))
  AND (?22 IS NULL OR EXISTS (SELECT 1 FROM decisions WHERE id = ?22 AND status = 'superseded'))
ON CONFLICT DO NOTHING`;

// decisions_customer_offers, newest first: only read when a concurrent decision won the race.
const NEWEST_OFFER_SQL = `
SELECT * FROM decisions WHERE customer_id = ?1 AND offer_key IS NOT NULL
ORDER BY created_at DESC, id DESC LIMIT 1`;

/**
 * Decides the next offer for one customer and stores the decision, or returns the customer's
 * outstanding offer. Never throws for an unknown customer: the decision says `unknown_customer`.
 * `ruleset` is the one the entry point chose (worker/deployed-ruleset.ts for the API and the tick;
 * tests pass any checked one): the decision is made, rendered and stamped with it.
 *
 * @example
 * const { decision, chosenOffer } = await decideAndRecord(env, {
 *   customerId: "cus_42", context: "winback", now: controller.scheduledTime,
 *   only: ["price_everyone_else"], source: "campaign",
 * }, tc.ruleset);
 */
export async function decideAndRecord(
  env: DecisionEnv,
  request: DecideRequest,
  ruleset: Ruleset,
): Promise<DecisionResult> {
  const plan = decisionRulesetOf(ruleset);
  const ask = { customerId: request.customerId, context: request.context, now: request.now };
  let state = await readDecisionState(env.DB, plan, { ...ask, keyHash: request.foldedKey?.hash });
  request.foldedKey?.admit(state.storedKey);
  let firstReadRows = 0;
  // The live offer this ask takes back: withdrawn (the customer may get no offer at all) or
  // superseded (it does not serve this ask, and a fresh decision gives another offer).
  let replacing: { row: DecisionRow; why: string; as: "withdrawn" | "superseded" } | null = null;
  if (state.outstanding && !isExpired(state.outstanding, request.now)) {
    const live = state.outstanding;
    const withdrawal = state.customer ? withdrawalFor(plan, request, state, state.customer) : null;
    const notServing = withdrawal === null ? heldOfferServes(plan.ruleset, heldOfferOf(live), request) : null;
    if (withdrawal === null && notServing === null) {
      const decision = storedDecisionOf(live, request.now);
      return {
        decision,
        outcome: "outstanding",
        chosenOffer: chosenOfferOf(plan, decision),
        trace: null,
        held: { decisionId: live.id, offerKey: live.offer_key, kept: true, why: KEPT_WHY },
        rowsRead: state.rowsRead,
        rowsWritten: 0,
      };
    }
    // Decide afresh. The read above skipped the history while the offer was live: read it now,
    // without the live offer (withdrawn or superseded, it counts for no cap or cooldown).
    firstReadRows = state.rowsRead;
    const full = await readDecisionState(env.DB, plan, { ...ask, evenIfLive: true });
    const current = full.outstanding && !isExpired(full.outstanding, request.now) ? full.outstanding : null;
    if (current && current.id !== live.id) {
      // Between the two reads a concurrent ask replaced the held offer with its own: one winner,
      // whose offer is the answer (never the held one, which is no longer outstanding).
      const decision = storedDecisionOf(current, request.now);
      return {
        decision,
        outcome: "outstanding",
        chosenOffer: chosenOfferOf(plan, decision),
        trace: null,
        held: { decisionId: live.id, offerKey: live.offer_key, kept: false, why: CONCURRENT_WHY },
        rowsRead: firstReadRows + full.rowsRead,
        rowsWritten: 0,
      };
    }
    if (current) {
      state = {
        ...full,
        offers: full.offers.filter(
          (past) => !(past.offerKey === live.offer_key && past.at === live.created_at),
        ),
      };
      replacing =
        withdrawal !== null
          ? { row: live, why: withdrawal, as: "withdrawn" }
          : { row: live, why: notServing!, as: "superseded" };
    } else {
      // The held offer was answered (or lapsed) between the two reads: nothing is held any more,
      // and this ask is decided as any other, its history counting the answered offer.
      state = full;
    }
  }
  if (!state.customer && (await isErased(env.DB, request.customerId))) {
    // Nothing is recorded for an erased customer, not even an unknown_customer decision with its id.
    throw new ApiError(
      404,
      "customer_not_found",
      `Customer "${request.customerId}" was erased on request; nothing is decided or recorded for it.`,
    );
  }
  let fresh = state.customer
    ? evaluate(plan, env, request, state, state.customer)
    : unknownCustomer(plan, request);
  // A new offer from another context must outrank the held one to take its place.
  const outranked =
    replacing?.as === "superseded" && fresh.row.offer_key !== null && fresh.row.status === "outstanding"
      ? heldOfferOutranks(plan.ruleset, heldOfferOf(replacing.row), fresh.row.offer_key, request.context)
      : null;
  if (replacing?.as === "superseded" && (fresh.row.status !== "outstanding" || outranked !== null)) {
    // Nothing better for this ask: the held offer stands, unchanged, and nothing is written.
    const decision = storedDecisionOf(replacing.row, request.now);
    return {
      decision,
      outcome: "outstanding",
      chosenOffer: chosenOfferOf(plan, decision),
      trace: request.explain ? fresh.trace : null,
      held: {
        decisionId: replacing.row.id,
        offerKey: replacing.row.offer_key,
        kept: true,
        why:
          outranked !== null
            ? `${replacing.why}; decided afresh, ${outranked}, so it stands`
            : `${replacing.why}; decided afresh, this ask gets no offer (${fresh.row.reason_code}: ${fresh.row.why}), so it stands`,
      },
      rowsRead: firstReadRows + state.rowsRead,
      rowsWritten: 0,
    };
  }
  if (replacing?.as === "withdrawn" && fresh.row.offer_key === null) {
    // What refused the offer refuses every offer: say so, and which offer it took back.
    fresh = {
      ...fresh,
      row: {
        ...fresh.row,
        reason_code: "ineligible",
        why: `${replacing.why}; withdrew offer ${replacing.row.id}`,
      },
    };
  }
  if (replacing?.as === "superseded") {
    fresh = {
      ...fresh,
      row: {
        ...fresh.row,
        why: `${fresh.row.why}; supersedes offer ${replacing.row.id} (${replacing.why})`,
        inputs: JSON.stringify({ ...JSON.parse(fresh.row.inputs), supersedes: replacing.row.id }),
      },
    };
  }
  const held = replacing
    ? {
        decisionId: replacing.row.id,
        offerKey: replacing.row.offer_key,
        kept: false,
        why: replacing.as === "withdrawn" ? `withdrawn: ${replacing.why}` : `superseded: ${replacing.why}`,
      }
    : null;
  const repeated = repeatedNoOffer(request, state, fresh.row);
  if (repeated) {
    return {
      decision: storedDecisionOf(repeated, request.now),
      outcome: "repeated",
      chosenOffer: null,
      trace: request.explain ? fresh.trace : null,
      held,
      rowsRead: firstReadRows + state.rowsRead,
      rowsWritten: 0,
    };
  }
  if (request.dryRun) {
    return {
      decision: storedDecisionOf(fresh.row, request.now),
      outcome: "created",
      chosenOffer: fresh.chosen,
      trace: request.explain ? fresh.trace : null,
      held,
      rowsRead: firstReadRows + state.rowsRead,
      rowsWritten: 0,
    };
  }
  const offerSeq = fresh.row.status === "outstanding" ? state.offerSeq : null;
  const superseding = replacing?.as === "superseded" ? replacing.row.id : null;
  const zone = reportingZone(ruleset, state.customer?.timezone);
  const dayOf = (at: number | null) => (at === null ? null : localDay(at, zone));
  const insert = env.DB.prepare(INSERT_SQL).bind(
    ...insertParams(fresh.row),
    offerSeq,
    superseding,
    dayOf(fresh.row.created_at),
    dayOf(fresh.row.expires_at),
  );
  // A lone INSERT skips batch()'s extra cost. An outstanding row still here is closed in the same
  // batch (which frees decisions_one_outstanding for the INSERT): withdrawn, superseded, or expired
  // if it lapsed.
  const close =
    replacing?.as === "withdrawn"
      ? WITHDRAW_SQL
      : replacing?.as === "superseded"
        ? SUPERSEDE_SQL
        : EXPIRE_SQL;
  const closing = env.DB.prepare(close);
  const closeStatement = replacing
    ? closing.bind(replacing.row.id, dayOf(request.now))
    : closing.bind(state.outstanding?.id ?? null);
  const results = state.outstanding ? await env.DB.batch([closeStatement, insert]) : [await insert.run()];
  let rowsRead =
    firstReadRows + state.rowsRead + results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0);
  const rowsWritten = results.reduce((sum, result) => sum + (result.meta.rows_written ?? 0), 0);

  if (fresh.row.status === "outstanding" && results[results.length - 1]?.meta.changes === 0) {
    // A concurrent decision stored its offer first (outstanding, or already answered): answer with
    // that one, the customer's newest offer.
    const winner = await env.DB.prepare(NEWEST_OFFER_SQL).bind(request.customerId).run<DecisionRow>();
    rowsRead += winner.meta.rows_read ?? 0;
    const winnerRow = winner.results[0];
    if (!winnerRow) throw new Error(`decision for ${request.customerId} was neither stored nor outstanding`);
    const decision = storedDecisionOf(winnerRow, request.now);
    return {
      decision,
      outcome: "outstanding",
      chosenOffer: chosenOfferOf(plan, decision),
      trace: null,
      // The held offer was not superseded after all: answered, or replaced by a concurrent ask.
      held: replacing ? { ...held!, kept: winnerRow.id === replacing.row.id, why: CONCURRENT_WHY } : held,
      rowsRead,
      rowsWritten,
    };
  }
  const decision = storedDecisionOf(fresh.row, request.now);
  return {
    decision,
    outcome: "created",
    chosenOffer: fresh.chosen,
    trace: request.explain ? fresh.trace : null,
    held,
    rowsRead,
    rowsWritten,
  };
}

/**
 * A decision is the same answer as another when every column but its id and time is equal, and its
 * inputs are (compared by `answerInputs`): the profile values, segment memberships, history counts
 * and buckets the evaluation read. A column added later is compared too, unless listed here.
 */
const NOT_PART_OF_THE_ANSWER: ReadonlySet<keyof DecisionRow> = new Set(["id", "created_at", "inputs"]);
const SAME_ANSWER_COLUMNS = DECISION_COLUMNS.filter((column) => !NOT_PART_OF_THE_ANSWER.has(column));

/**
 * The inputs of a decision as far as its answer goes: without how many events the read took in,
 * which grows with every login although the rules see events only through the profile values and
 * segments (which are compared). Otherwise an active customer's banner would store a row per visit.
 */
function answerInputs(stored: string): string {
  const { events: _events, ...rest } = JSON.parse(stored) as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * An app polling for an offer (an in-app banner on every page view) would otherwise store one
 * no-offer row per page view. A decision API ask that gives no offer, for the same reasons and on
 * the same inputs as the customer's last no-offer decision in this context with no offer made since
 * (read-state.ts), returns that decision. Campaigns always store theirs: each step's send cites it.
 */
function repeatedNoOffer(
  request: DecideRequest,
  state: DecisionState,
  fresh: DecisionRow,
): DecisionRow | null {
  const last = state.lastNoOffer;
  if (!last || fresh.status !== "no_offer" || state.outstanding) return null;
  if ((request.source ?? "api") !== "api") return null;
  for (const column of SAME_ANSWER_COLUMNS) if (last[column] !== fresh[column]) return null;
  return answerInputs(last.inputs) === answerInputs(fresh.inputs) ? last : null;
}

/** What the rules evaluate for one ask: the profile with the request's attributes, and the history. */
function evaluationInputs(request: DecideRequest, state: DecisionState, profile: Record<string, unknown>) {
  const attributes = request.attributes ?? null;
  const customer = attributes
    ? { ...profile, attributes: { ...(profile.attributes as Record<string, unknown>), ...attributes } }
    : profile;
  const ctx: EvalContext = { now: request.now, customer, events: state.events };
  // In the cancel flow the customer is churning right now: a redemption shortly before counts as
  // "redeemed and churned again" even though the cancellation event does not exist yet.
  const cancellations =
    request.context === "cancel_flow" ? [...state.cancellations, request.now] : state.cancellations;
  return { customer, ctx, cancellations };
}

/** The outstanding row as the rules' `heldOfferServes` looks at it. */
function heldOfferOf(row: DecisionRow): HeldOffer {
  return { offerKey: row.offer_key ?? "", context: row.context as OfferContext, reason: row.reason };
}

/** Why the customer's live outstanding offer must be withdrawn at this ask (dsl/runtime/decide.ts), or null. */
function withdrawalFor(
  plan: DecisionRuleset,
  request: DecideRequest,
  state: DecisionState,
  profile: Record<string, unknown>,
): string | null {
  const { ctx, cancellations } = evaluationInputs(request, state, profile);
  return withdrawalOf(plan.ruleset, ctx, {
    context: request.context,
    reason: request.reason ?? null,
    history: { offers: state.offers, cancellations },
  });
}

/** The request's attributes in name order, so the same attributes record the same inputs. */
function sortedAttributes(request: DecideRequest): Record<string, unknown> | null {
  if (!request.attributes) return null;
  return Object.fromEntries(
    Object.entries(request.attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/** The request as the engine received it (after defaults). */
interface DecisionRequestInputs {
  readonly context: string;
  readonly reason: string | null;
  readonly attributes: Readonly<Record<string, unknown>> | null;
  readonly only: readonly string[] | null;
}

/**
 * "Inputs that mattered": what a stored decision records about why it came out as it did: the
 * request, the reason the rules used, the profile values and segment memberships the evaluated
 * offers read (dsl `offerInputs`), how much event and offer history there was, and the experiment
 * buckets. Enough to audit one decision or to slice lift by segment without re-running the rules.
 */
function inputsThatMattered(
  ruleset: Ruleset,
  ctx: EvalContext,
  request: DecisionRequestInputs,
  decision: OfferDecision,
  state: DecisionState,
): Record<string, unknown> {
  // The offers the decision evaluated (with or without a trace): what they read is what mattered.
  const { profile, segments } = offerInputs(ruleset, ctx, decision.evaluated);
  const customerId = String(ctx.customer.id ?? "");
  const lastOfferAt = state.offers.reduce<number | null>(
    (latest, offer) => (latest === null || offer.at > latest ? offer.at : latest),
    null,
  );
  return {
    request,
    reason_used: decision.reason,
    reason_from: request.reason !== null ? "request" : decision.reason !== null ? "profile" : null,
    matched: decision.matched,
    profile,
    segments,
    events: { considered: state.events.length, truncated: state.eventsTruncated },
    history: {
      offers: state.offers.length,
      last_offer_at: lastOfferAt === null ? null : new Date(lastOfferAt).toISOString(),
      redemptions: state.offers.filter((offer) => offer.redeemedAt != null).length,
      cancellations: state.cancellations.length,
    },
    buckets: decision.experiment
      ? {
          experiment: decision.experiment,
          holdout_point: bucketOf("holdout", decision.experiment, customerId),
          variant_point: bucketOf("variant", decision.experiment, customerId),
        }
      : null,
  };
}

interface NewDecision {
  row: DecisionRow;
  chosen: ChosenOffer | null;
  trace: readonly OfferTraceEntry[];
}

function evaluate(
  plan: DecisionRuleset,
  env: DecisionEnv,
  request: DecideRequest,
  state: DecisionState,
  profile: Record<string, unknown>,
): NewDecision {
  const { ruleset } = plan;
  const attributes = sortedAttributes(request);
  const { customer, ctx, cancellations } = evaluationInputs(request, state, profile);
  const decision: OfferDecision = decideOffer(ruleset, ctx, {
    context: request.context,
    reason: request.reason ?? null,
    history: { offers: state.offers, cancellations },
    ...(request.only ? { only: request.only } : {}),
    explain: request.explain === true,
  });
  const requestInputs: DecisionRequestInputs = {
    context: request.context,
    reason: request.reason ?? null,
    attributes,
    only: request.only ?? null,
  };
  const inputs = inputsThatMattered(ruleset, ctx, requestInputs, decision, state);
  const offer = decision.offer;
  const id = newDecisionId(request.now, customerSlot(request.customerId));
  const message = offer
    ? renderMessage(ruleset, offer.message, {
        customer,
        companyName: env.COMPANY_NAME,
        offer,
        decisionId: id,
      })
    : null;
  const cost = offer ? rewardCost(offer.reward, customer) : null;
  return {
    row: {
      id,
      customer_id: request.customerId,
      context: request.context,
      reason: decision.reason,
      offer_key: offer?.key ?? null,
      reward: offer ? JSON.stringify(rewardJson(offer.reward)) : null,
      message: message ? JSON.stringify(message) : null,
      reason_code: decision.reasonCode,
      why: decision.why,
      experiment: decision.experiment,
      variant: decision.variant,
      holdout: decision.holdout ? 1 : 0,
      ruleset_version: ruleset.version,
      inputs: JSON.stringify(inputs),
      cost: cost?.amount ?? null,
      cost_currency: cost?.currency ?? null,
      source: request.source ?? "api",
      created_at: request.now,
      expires_at: offer?.expiresAt ?? null,
      status: offer ? "outstanding" : "no_offer",
      responded_at: null,
    },
    chosen: offer,
    trace: decision.trace,
  };
}

function unknownCustomer(plan: DecisionRuleset, request: DecideRequest): NewDecision {
  return {
    row: {
      id: newDecisionId(request.now, customerSlot(request.customerId)),
      customer_id: request.customerId,
      context: request.context,
      reason: request.reason ?? null,
      offer_key: null,
      reward: null,
      message: null,
      reason_code: "unknown_customer",
      why: `no event has been received for customer ${request.customerId}, so no rule can match`,
      experiment: null,
      variant: null,
      holdout: 0,
      ruleset_version: plan.ruleset.version,
      inputs: JSON.stringify({
        request: {
          context: request.context,
          reason: request.reason ?? null,
          attributes: sortedAttributes(request),
          only: request.only ?? null,
        },
      }),
      cost: null,
      cost_currency: null,
      source: request.source ?? "api",
      created_at: request.now,
      expires_at: null,
      status: "no_offer",
      responded_at: null,
    },
    chosen: null,
    trace: [],
  };
}

function insertParams(row: DecisionRow): (string | number | null)[] {
  return [
    row.id,
    row.customer_id,
    row.context,
    row.reason,
    row.offer_key,
    row.reward,
    row.message,
    row.reason_code,
    row.why,
    row.experiment,
    row.variant,
    row.holdout,
    row.ruleset_version,
    row.inputs,
    row.cost,
    row.cost_currency,
    row.source,
    row.created_at,
    row.expires_at,
    row.status,
  ];
}

/** The stored offer as the current ruleset knows it (reward and message key), for rendering. */
function chosenOfferOf(plan: DecisionRuleset, decision: StoredDecision): ChosenOffer | null {
  const offer = decision.offer;
  if (!offer) return null;
  const rules = plan.ruleset.rewards.get(String(offer.reward.key));
  if (!rules || !plan.ruleset.messages.has(offer.message.key)) return null;
  // In the currency it was offered in (a GBP customer's £16, not the rules' $20).
  const currency = offer.reward.currency;
  const reward =
    rewardIn(rules, typeof currency === "string" ? currency : null, plan.ruleset.exchange) ?? rules;
  return { key: offer.key, reward, message: offer.message.key, expiresAt: offer.expiresAt };
}
