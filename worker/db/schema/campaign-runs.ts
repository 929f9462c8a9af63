/**
 * `campaign_runs`: one row per campaign occurrence step the tick has claimed (or recorded as skipped).
 * The unique key (campaign, occurrence, step, offset) is the claim: a retried, late or concurrent
 * tick inserts nothing and runs nothing twice. A row stays `running` while a tick holds its lease;
 * a tick that died leaves the lease to lapse, and a later tick resumes from `cursor` (the last
 * customer id it finished) instead of losing the run. See worker/tick/claims.ts.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** `running` (a tick holds the lease), `done`, `skipped` (catch-up limit), `expired` (abandoned too long). */
export const CAMPAIGN_RUN_STATUSES = ["running", "done", "skipped", "expired"] as const;
export type CampaignRunStatus = (typeof CAMPAIGN_RUN_STATUSES)[number];

export const campaignRuns = sqliteTable(
  "campaign_runs",
  {
    id: text("id").primaryKey(),
    campaign: text("campaign").notNull(),
    /** The occurrence instant as ISO 8601 UTC: also `sends.occurrence` of its messages. */
    occurrence: text("occurrence").notNull(),
    /** Index of the step in the campaign's (or its variant's) steps: also `sends.step`. */
    step: text("step").notNull(),
    /** Delay of this step after the occurrence (variants may space their steps differently). */
    offsetMs: integer("offset_ms").notNull(),
    /** occurrence + offset: when the step is due, and the "now" its audience is evaluated at. */
    dueAt: integer("due_at").notNull(),
    status: text("status", { enum: CAMPAIGN_RUN_STATUSES }).notNull(),
    /** Random token of the tick holding the run; every progress write requires it. */
    leaseToken: text("lease_token"),
    leaseExpiresAt: integer("lease_expires_at"),
    /** Ticks that claimed or resumed the run. */
    attempts: integer("attempts").notNull().default(1),
    /** Last customer id whose page was fully handled (keyset position to resume from). */
    cursor: text("cursor"),
    /** JSON counters: audience, sent, holdout, frequency_capped, already_sent, deferred, rows_read. */
    stats: text("stats").notNull(),
    /** Why the run was skipped or expired, or the last error of a failed attempt. */
    note: text("note"),
    claimedAt: integer("claimed_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    finishedAt: integer("finished_at"),
  },
  (table) => [
    uniqueIndex("campaign_runs_occurrence_step").on(
      table.campaign,
      table.occurrence,
      table.step,
      table.offsetMs,
    ),
    // GET /v1/metrics/campaigns: the runs due in a period.
    index("campaign_runs_due").on(table.dueAt),
    // Resuming: runs whose lease lapsed, and GET /v1/admin/campaign-runs?status=.
    index("campaign_runs_status_lease").on(table.status, table.leaseExpiresAt),
  ],
);

export type CampaignRunRecord = typeof campaignRuns.$inferSelect;
