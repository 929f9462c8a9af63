/**
 * Runs one claimed campaign stage occurrence: pages through its audience (audience.ts), decides for
 * each customer (holdout → excluded; over the frequency cap → excluded; otherwise the variant's
 * step, with its offer, deferred past quiet hours; no offer and no fallback message → excluded),
 * writes the sends and exclusions, and records the keyset position after every page so a tick that
 * dies is resumed where it stopped. Every audience member leaves a row (a send or an exclusion): the
 * campaign metrics compare everyone assigned to a variant with the holdout (intention to treat).
 *
 * Stage: claims.ts → this file → enqueueSends (worker/sends) → queue consumer.
 */
import { campaignAssignment } from "../../dsl";
import type { ExclusionReason } from "../db/schema/campaign-exclusions";
import type { SendRequest } from "../sends/types";
import { readAudiencePage, recentSends, sendIdFloor } from "./audience";
import { finishRun, type HeldRun, type RunStats, releaseRun, saveProgress } from "./claims";
import type { TickContext } from "./context";
import type { CampaignRunReport } from "./report";
import { type CampaignStage, stepOffsets } from "./stages";
import { enqueueTickSends, stepSend } from "./step-send";

interface Exclusion {
  customer_id: string;
  reason: ExclusionReason;
  /** The experiment (holdout), the cap class (frequency_cap), the variant given (no_offer). */
  detail: string | null;
}

/** Runs `run` (held by this tick) to completion, or until the budget runs out. */
export async function runCampaignStage(
  tc: TickContext,
  stage: CampaignStage,
  run: HeldRun,
): Promise<CampaignRunReport> {
  const { env, now, ruleset, budget } = tc;
  const campaign = stage.campaign;
  const stats: RunStats = { ...(JSON.parse(run.row.stats) as RunStats) };
  const occurrence = run.row.occurrence;
  const step = String(stage.step);
  let cursor = run.row.cursor ?? "";
  const capKey = campaign.ir.frequencyCap;
  const capRule = capKey === null ? undefined : ruleset.frequencyCaps.get(capKey);
  const cap =
    capKey !== null && capRule
      ? {
          capFromId: sendIdFloor(now - capRule.perMs),
          capCampaigns: [...ruleset.campaigns.values()]
            .filter((other) => other.ir.frequencyCap === capKey)
            .map((other) => other.key),
        }
      : null;

  // Only sends of another run of the cap's class can count against it (this run sends each customer
  // once per step): when no such run was active in the window, every count is 0 and no lookup is needed.
  const capActive =
    cap !== null &&
    capRule !== undefined &&
    ((await otherRunsInWindow(tc, run, cap.capCampaigns, now - capRule.perMs)) ||
      (tc.dryRun?.ranOtherRun(cap.capCampaigns, run.row.id) ?? false));
  tc.dryRun?.noteRun(campaign.key, run.row.id);
  // A dry tick leaves the run's row as it is: no pause note, no progress, no finish.
  // A sharded campaign unit keeps its lease: its own message continues it (context.ts `continued`).
  const release = async (note: string) => {
    if (!tc.dryRun && !tc.continued) await releaseRun(env.DB, run, now, note);
  };

  const report = (status: CampaignRunReport["status"]): CampaignRunReport => ({
    campaign: campaign.key,
    occurrence,
    step,
    due_at: new Date(run.row.due_at).toISOString(),
    status,
    resumed: run.resumed,
    ...stats,
    rows_read_per_selected: stats.audience === 0 ? null : round2(stats.rows_read / stats.audience),
  });

  for (;;) {
    if (budget.exhausted()) {
      await release(`paused at ${cursor || "the start"}: query budget of one tick used`);
      return report("paused");
    }
    const page = await readAudiencePage(env.DB, {
      stage,
      occurrence,
      at: run.row.due_at,
      cursor,
      limit: tc.audiencePageSize,
      ...(tc.dryRun && stage.step > 0
        ? { alsoSentPreviousStep: tc.dryRun.customersSent(campaign.key, occurrence, String(stage.step - 1)) }
        : {}),
    });
    stats.rows_read += page.rowsRead;
    stats.pages += 1;
    if (page.rows.length === 0) break;
    let capCounts = new Map<string, number>();
    if (cap && capActive) {
      const recent = await recentSends(
        env.DB,
        page.rows.map((row) => row.id),
        cap,
      );
      stats.rows_read += recent.rowsRead;
      capCounts = tc.dryRun
        ? tc.dryRun.withRecordedCampaignSends(
            recent.counts,
            page.rows.map((row) => row.id),
            cap.capCampaigns,
          )
        : recent.counts;
    }

    const sends: SendRequest[] = [];
    const exclusions: Exclusion[] = [];
    // An offer costs a decision (one to four statements) per customer: a page may run out of budget
    // part-way, and then the run stops after the last customer handled and resumes from there.
    let handled = 0;
    for (const customer of page.rows) {
      if (budget.exhausted(20)) break;
      handled += 1;
      stats.audience += 1;
      const assignment = campaignAssignment(campaign, customer.id);
      if (assignment.holdout) {
        stats.holdout += 1;
        exclusions.push({ customer_id: customer.id, reason: "holdout", detail: assignment.experiment });
        continue;
      }
      const stepIR = assignment.steps[stage.step];
      // A variant whose step k comes at another delay is run by that stage, not this one.
      if (!stepIR || stepOffsets(assignment.steps)[stage.step] !== stage.offsetMs) {
        stats.audience -= 1;
        continue;
      }
      if (capRule && (capCounts.get(customer.id) ?? 0) >= capRule.max) {
        stats.frequency_capped += 1;
        exclusions.push({ customer_id: customer.id, reason: "frequency_cap", detail: capKey });
        continue;
      }
      const outcome = await stepSend({
        env,
        ruleset,
        now,
        customer,
        programme: { kind: "campaign", key: campaign.key, occurrence, step },
        content: stepIR,
        offerContext: campaign.ir.offerContext,
        quietHours: campaign.quietHours,
        extraVariables: assignment.variant === null ? {} : { variant: assignment.variant },
        dryRun: tc.dryRun,
      });
      if (outcome.kind === "no_offer") {
        stats.no_offer += 1;
        exclusions.push({ customer_id: customer.id, reason: "no_offer", detail: assignment.variant });
        continue;
      }
      sends.push(outcome.request);
      if (outcome.deferred) stats.deferred += 1;
    }
    const stoppedEarly = handled < page.rows.length;
    if (handled === 0) {
      await release(`paused at ${cursor || "the start"}: query budget of one tick used`);
      return report("paused");
    }
    cursor = page.rows[handled - 1]!.id;

    if (sends.length > 0) {
      const enqueued = await enqueueTickSends(tc, sends);
      stats.sent += enqueued.createdIds.length;
      stats.already_sent += enqueued.duplicates;
    }
    if (tc.dryRun) {
      tc.dryRun.recordExclusions({ campaign: campaign.key, occurrence, step }, exclusions);
    } else {
      const statements: D1PreparedStatement[] = [];
      if (exclusions.length > 0) {
        statements.push(
          env.DB.prepare(
            `INSERT INTO campaign_exclusions (campaign, occurrence, step, customer_id, reason, detail, at)
           SELECT ?2, ?3, ?4, x.value ->> 'customer_id', x.value ->> 'reason', x.value ->> 'detail', ?5
           FROM json_each(?1) AS x WHERE true
           ON CONFLICT DO NOTHING`,
          ).bind(JSON.stringify(exclusions), campaign.key, occurrence, step, now),
        );
      }
      statements.push(saveProgress(env.DB, run, cursor, stats, now));
      // The exclusions and the keyset position commit together: a resumed run neither repeats nor loses them.
      const results = await env.DB.batch(statements);
      if ((results[results.length - 1]?.meta.changes ?? 0) === 0) return report("lost");
    }
    if (stoppedEarly) {
      await release(`paused at ${cursor}: query budget of one tick used`);
      return report("paused");
    }
    if (page.rows.length < tc.audiencePageSize) break;
  }
  const finished = tc.dryRun ? true : await finishRun(env.DB, run, stats, now);
  return report(finished ? "done" : "lost");
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Whether a run of `campaigns` other than `run` made progress since `windowStart`. */
async function otherRunsInWindow(
  tc: TickContext,
  run: HeldRun,
  campaigns: readonly string[],
  windowStart: number,
): Promise<boolean> {
  // campaign_runs holds one row per occurrence step: small, read once per run.
  const row = await tc.env.DB.prepare(
    `SELECT 1 AS found FROM campaign_runs
     WHERE campaign IN (SELECT value FROM json_each(?1)) AND status IN ('running', 'done') AND id <> ?2
       AND updated_at >= ?3
     LIMIT 1`,
  )
    .bind(JSON.stringify(campaigns), run.row.id, windowStart)
    .first<{ found: number }>();
  return row !== null;
}
