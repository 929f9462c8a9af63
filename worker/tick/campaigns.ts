/**
 * The campaign part of a tick: first resume runs an earlier tick left unfinished (it died, or ran
 * out of budget), then, for every stage of every campaign in the rules, claim the occurrences that
 * came due since the last clean tick and run them. Catch-up is bounded (due.ts) and what it skips
 * is recorded and logged.
 */

import { runCampaignStage } from "./campaign-run";
import {
  type CampaignRunRow,
  claimOccurrence,
  DRY_RUN_TOKEN,
  expireRun,
  type HeldRun,
  lapsedRuns,
  occurrenceKey,
  type RunStats,
  recordSkipped,
  takeOverRun,
  wouldClaimOccurrence,
} from "./claims";
import type { TickContext } from "./context";
import { dueOccurrences } from "./due";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";
import { type CampaignStage, campaignStages } from "./stages";

/** Runs every campaign stage due at `tc.now` (caught up from `from`). */
export async function runCampaigns(tc: TickContext, from: number): Promise<void> {
  const stagesByKey = new Map<string, CampaignStage>();
  for (const campaign of tc.ruleset.campaigns.values()) {
    for (const stage of campaignStages(campaign))
      stagesByKey.set(stageKey(campaign.key, stage.step, stage.offsetMs), stage);
  }

  const lapsed = await lapsedRuns(tc.env.DB, tc.now, 50);
  for (const row of lapsed) {
    if (tc.budget.exhausted()) return;
    const held = tc.dryRun
      ? tc.dryRun.holdRun(row.campaign, row.occurrence, row.step, row.offset_ms)
        ? { row, token: DRY_RUN_TOKEN, resumed: true }
        : null
      : await takeOverRun(tc.env.DB, row.id, tc.now);
    if (!held) continue;
    logTick(tc, "tick.resume", {
      runId: row.id,
      campaign: row.campaign,
      occurrence: row.occurrence,
      step: row.step,
      cursor: row.cursor,
    });
    await runHeld(tc, stagesByKey.get(stageKey(row.campaign, Number(row.step), row.offset_ms)), held);
  }

  for (const stage of stagesByKey.values()) {
    const due = dueOccurrences(stage, from, tc.now);
    const step = String(stage.step);
    if (due.skipped.length > 0 || due.beyondWindow > 0) {
      const recorded = tc.dryRun
        ? 0
        : await recordSkipped(
            tc.env.DB,
            stage,
            due.skipped,
            tc.now,
            `catch-up: only the newest ${TICK_LIMITS.maxOccurrencesPerTick} due occurrence(s) run per tick`,
          );
      tc.report.catch_up.push({
        campaign: stage.campaign.key,
        step,
        skipped: due.skipped.map(occurrenceKey),
        beyond_window: due.beyondWindow,
      });
      logTick(tc, "tick.catch_up_skipped", {
        campaign: stage.campaign.key,
        step,
        skipped: due.skipped.length,
        recorded,
        beyondWindow: due.beyondWindow,
        from: new Date(from).toISOString(),
      });
    }
    for (const occurrenceAt of due.run) {
      if (tc.budget.exhausted()) return;
      const held = await claim(tc, stage, occurrenceAt);
      if (!held) {
        tc.report.already_claimed += 1;
        continue;
      }
      logTick(tc, "tick.claim", {
        campaign: stage.campaign.key,
        occurrence: held.row.occurrence,
        step,
        resumed: held.resumed,
      });
      await runHeld(tc, stage, held);
    }
  }
}

/** Claims a stage occurrence; a dry tick checks whether it would, holding it in memory. */
async function claim(tc: TickContext, stage: CampaignStage, occurrenceAt: number): Promise<HeldRun | null> {
  if (!tc.dryRun) return claimOccurrence(tc.env.DB, stage, occurrenceAt, tc.now);
  const held = await wouldClaimOccurrence(tc.env.DB, stage, occurrenceAt, tc.now);
  if (!held) return null;
  const { campaign, occurrence, step, offset_ms } = held.row;
  return tc.dryRun.holdRun(campaign, occurrence, step, offset_ms) ? held : null;
}

async function runHeld(tc: TickContext, stage: CampaignStage | undefined, held: HeldRun): Promise<void> {
  const row: CampaignRunRow = held.row;
  if (!stage) {
    // The campaign or its step was removed from the rules since the run began.
    if (!tc.dryRun) await expireRun(tc.env.DB, held, tc.now, "the campaign step is no longer in the rules");
    logTick(tc, "tick.run_expired", { campaign: row.campaign, occurrence: row.occurrence, step: row.step });
    return;
  }
  if (tc.now - row.due_at > TICK_LIMITS.staleRunMs) {
    if (!tc.dryRun) {
      await expireRun(
        tc.env.DB,
        held,
        tc.now,
        "unfinished for longer than a day after it was due; not sent late",
      );
    }
    tc.report.campaigns.push({
      campaign: row.campaign,
      occurrence: row.occurrence,
      step: row.step,
      due_at: new Date(row.due_at).toISOString(),
      status: "expired",
      resumed: held.resumed,
      ...(JSON.parse(row.stats) as RunStats),
      rows_read_per_selected: null,
    });
    logTick(tc, "tick.run_expired", { campaign: row.campaign, occurrence: row.occurrence, step: row.step });
    return;
  }
  const result = await runCampaignStage(tc, stage, held);
  tc.report.campaigns.push(result);
  logTick(tc, "tick.run", {
    campaign: result.campaign,
    occurrence: result.occurrence,
    step: result.step,
    status: result.status,
    audience: result.audience,
    sent: result.sent,
    holdout: result.holdout,
    frequencyCapped: result.frequency_capped,
    deferred: result.deferred,
    rowsRead: result.rows_read,
  });
}

function stageKey(campaign: string, step: number, offsetMs: number): string {
  return `${campaign}\u0000${step}\u0000${offsetMs}`;
}
