/**
 * `campaign_exclusions`: audience members of a campaign step who were deliberately sent nothing,
 * and why: `holdout` (the experiment's control group, kept so lift can be measured),
 * `frequency_cap` (the customer had had as many messages of the cap's class as it allows) or
 * `no_offer` (the step carries an offer, the rules gave the customer none and the step has no
 * fallback message). The last two are still in their variant's treated group: the holdout is drawn
 * before either is known, so lift compares it with everyone assigned (docs/metrics.md).
 * `reason` is plain text in D1 (migrations/0004_tick.sql): a new reason needs no migration.
 * Already-sent customers and quiet-hour deferrals are counted on the run (campaign_runs.stats), not here:
 * the first has its send row, the second is a send with a later `not_before`.
 */
import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const EXCLUSION_REASONS = ["holdout", "frequency_cap", "no_offer"] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export const campaignExclusions = sqliteTable(
  "campaign_exclusions",
  {
    campaign: text("campaign").notNull(),
    occurrence: text("occurrence").notNull(),
    step: text("step").notNull(),
    customerId: text("customer_id").notNull(),
    reason: text("reason", { enum: EXCLUSION_REASONS }).notNull(),
    /** The experiment key (holdout), the cap class (frequency_cap), or the variant given, if any (no_offer). */
    detail: text("detail"),
    at: integer("at").notNull(),
  },
  (table) => [primaryKey({ columns: [table.campaign, table.occurrence, table.step, table.customerId] })],
);

export type CampaignExclusionRecord = typeof campaignExclusions.$inferSelect;
