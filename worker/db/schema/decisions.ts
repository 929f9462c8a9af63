/**
 * `decisions`: every answer to "what offer should this customer see now?", from the decision API
 * and from campaign messages that carry an offer (worker/decisions/decide-and-record.ts writes both).
 * A decision is stored with the ruleset version, the experiment variant or holdout, and the inputs
 * that mattered, so lift and audits can be computed later from this table alone.
 *
 * `status`: `outstanding` (an offer the customer may still accept until `expires_at`), `accepted`,
 * `declined`, `expired`, `withdrawn` (taken back unanswered because the customer became ineligible
 * for any offer: a reason that gets none, or the anti-abuse guard), `superseded` (replaced unanswered
 * by a new offer from an ask in a context or for a reason it did not serve), or `no_offer` (the
 * decision gave nothing; `reason_code` says why). Withdrawn and superseded offers count for no cap
 * or cooldown. An
 * `outstanding` row whose `expires_at` has passed is expired; it is marked so the next time the
 * customer is decided for or responds.
 */
import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const DECISION_STATUSES = [
  "outstanding",
  "accepted",
  "declined",
  "expired",
  "withdrawn",
  "superseded",
  "no_offer",
] as const;
export type DecisionStatus = (typeof DECISION_STATUSES)[number];

export const decisions = sqliteTable(
  "decisions",
  {
    /** "dec_" + creation time (12 hex digits of epoch ms) + 16 random hex digits. */
    id: text("id").primaryKey(),
    customerId: text("customer_id").notNull(),
    /** cancel_flow | in_app | winback | dunning. */
    context: text("context").notNull(),
    /** The churn reason the rules saw: the cancel flow's, else the profile's. */
    reason: text("reason"),
    /** NULL when the decision gave no offer. */
    offerKey: text("offer_key"),
    /** JSON: the reward as the API shows it (dsl/runtime/messages.ts `rewardJson`), frozen at decision time. */
    reward: text("reward"),
    /** JSON: the rendered message `{key, channel, subject, body}`, frozen at decision time. */
    message: text("message"),
    /** offered | no_matching_rule | capped | cooldown | holdout | ineligible | unknown_customer. */
    reasonCode: text("reason_code").notNull(),
    /** One sentence: why this offer, or why none. */
    why: text("why").notNull(),
    experiment: text("experiment"),
    variant: text("variant"),
    /** 1 when the customer was held out of the matched offer's experiment (no offer, counted for lift). */
    holdout: integer("holdout").notNull().default(0),
    rulesetVersion: text("ruleset_version").notNull(),
    /** JSON object: the request's inputs and the profile values the evaluated conditions read. */
    inputs: text("inputs").notNull(),
    /** What granting the reward costs (minor units), priced when the offer was made; NULL: unknown. */
    cost: integer("cost"),
    costCurrency: text("cost_currency"),
    /** `api` (the decision API) or `campaign` (an offer carried by a scheduled message). */
    source: text("source").notNull(),
    createdAt: integer("created_at").notNull(),
    /** NULL when there is no offer. */
    expiresAt: integer("expires_at"),
    status: text("status", { enum: DECISION_STATUSES }).notNull(),
    /** When the customer accepted or declined. */
    respondedAt: integer("responded_at"),
    /**
     * Reporting days (worker/metrics/days.ts) for the metrics triggers (migrations/0008): of
     * `created_at`, of `expires_at`, and of the answer, withdrawal or supersession. NULL on rows from
     * before metrics existed and, for the last two, until they apply.
     */
    day: integer("day"),
    expiresDay: integer("expires_day"),
    closedDay: integer("closed_day"),
  },
  (table) => [
    // Stable answers: the decision read looks up the customer's outstanding offer by this index, and
    // it is what makes two concurrent decisions for one customer create one outstanding offer (the
    // second INSERT hits it and re-reads the winner).
    uniqueIndex("decisions_one_outstanding")
      .on(table.customerId)
      .where(sql`${table.status} = 'outstanding'`),
    // Caps and cooldowns: the decision read takes the customer's offers within the longest cap or
    // cooldown window, newest first. Decisions without an offer never count, so they are left out.
    index("decisions_customer_offers")
      .on(table.customerId, table.createdAt)
      .where(sql`${table.offerKey} IS NOT NULL`),
    // Repeated asks without an offer (an in-app banner polling on every page): the decision read
    // takes the customer's latest no-offer decision in the asked context, and an evaluation that
    // comes out the same returns it instead of storing a copy.
    // GET /v1/metrics/offers/decisions and /v1/metrics/decisions/recent: decisions by time.
    index("decisions_created").on(table.createdAt, table.id),
    index("decisions_customer_context_no_offer")
      .on(table.customerId, table.context, table.createdAt)
      .where(sql`${table.status} = 'no_offer'`),
  ],
);

export type DecisionRecordRow = typeof decisions.$inferSelect;
