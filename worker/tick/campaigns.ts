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
  expireRun,
  type HeldRun,
  lapsedRuns,
  occurrenceKey,
  type RunStats,
  recordSkipped,
  takeOverRun,
} from "./claims";
import type { TickContext } from "./context";
import { dueOccurrences } from "./due";
import { TICK_LIMITS } from "./limits";
import { logTickEvent } from "./log";
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
    const held = await takeOverRun(tc.env.DB, row.id, tc.now);
    if (!held) continue;
    logTickEvent("tick.resume", {
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
      const recorded = await recordSkipped(
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
      logTickEvent("tick.catch_up_skipped", {
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
      const held = await claimOccurrence(tc.env.DB, stage, occurrenceAt, tc.now);
      if (!held) {
        tc.report.already_claimed += 1;
        continue;
      }
      logTickEvent("tick.claim", {
        campaign: stage.campaign.key,
        occurrence: held.row.occurrence,
        step,
        resumed: held.resumed,
      });
      await runHeld(tc, stage, held);
    }
  }
}

async function runHeld(tc: TickContext, stage: CampaignStage | undefined, held: HeldRun): Promise<void> {
  const row: CampaignRunRow = held.row;
  if (!stage) {
    // The campaign or its step was removed from the rules since the run began.
    await expireRun(tc.env.DB, held, tc.now, "the campaign step is no longer in the rules");
    logTickEvent("tick.run_expired", { campaign: row.campaign, occurrence: row.occurrence, step: row.step });
    return;
  }
  if (tc.now - row.due_at > TICK_LIMITS.staleRunMs) {
    await expireRun(
      tc.env.DB,
      held,
      tc.now,
      "unfinished for longer than a day after it was due; not sent late",
    );
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
    logTickEvent("tick.run_expired", { campaign: row.campaign, occurrence: row.occurrence, step: row.step });
    return;
  }
  const result = await runCampaignStage(tc, stage, held);
  tc.report.campaigns.push(result);
  logTickEvent("tick.run", {
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
