/**
 * The campaign part of a tick: first resume runs an earlier tick left unfinished (it died, or ran
 * out of budget), then, for every stage of every campaign in the rules, claim the occurrences that
 * came due since the last clean tick and run them. Catch-up is bounded (due.ts) and what it skips
 * is recorded and logged.
 *
 * On a sharded deployment the same parts run as units on each shard (units.ts): the publish unit
 * resumes lapsed runs (`resumeLapsedCampaigns`), and each campaign unit claims and runs one stage
 * occurrence the dispatcher named (`runCampaignUnit`).
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
import { CATCH_UP_NOTE, dueOccurrences } from "./due";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";
import { type CampaignStage, campaignStages } from "./stages";
import type { TickUnit } from "./units";

/** Runs every campaign stage due at `tc.now` (caught up from `from`). */
export async function runCampaigns(tc: TickContext, from: number): Promise<void> {
  const stagesByKey = rulesetStages(tc);
  if (!(await resumeLapsed(tc, stagesByKey))) return;
  for (const stage of stagesByKey.values()) {
    const due = dueOccurrences(stage, from, tc.now);
    const step = String(stage.step);
    if (due.skipped.length > 0 || due.beyondWindow > 0) {
      const recorded = tc.dryRun
        ? 0
        : await recordSkipped(tc.env.DB, stage, due.skipped, tc.now, CATCH_UP_NOTE);
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
      await runHeld(tc, stage, tc.dryRun ? held : await withOrphanSends(tc, held));
    }
  }
}

/** Every stage of every campaign in the tick's ruleset, by stage key. */
function rulesetStages(tc: TickContext): Map<string, CampaignStage> {
  const stagesByKey = new Map<string, CampaignStage>();
  for (const campaign of tc.ruleset.campaigns.values()) {
    for (const stage of campaignStages(campaign))
      stagesByKey.set(stageKey(campaign.key, stage.step, stage.offsetMs), stage);
  }
  return stagesByKey;
}

/** Resumes runs whose lease lapsed (a sharded tick's publish unit, on its shard). */
export async function resumeLapsedCampaigns(tc: TickContext): Promise<void> {
  await resumeLapsed(tc, rulesetStages(tc));
}

/**
 * Claims and runs the one stage occurrence a campaign unit names (a rebound-ticks message). A
 * redelivered message takes over the run even if its lease holds: the consumer that held it
 * crashed or failed. Nothing is done when the run is finished or another consumer holds it.
 */
export async function runCampaignUnit(
  tc: TickContext,
  unit: Extract<TickUnit, { kind: "campaign" }>,
  redelivered: boolean,
): Promise<void> {
  const stage = rulesetStages(tc).get(stageKey(unit.campaign, Number(unit.step), unit.offset_ms));
  if (!stage) {
    // The step left the rules since the dispatch: a later tick's resume expires its run.
    logTick(tc, "tick.unit_stage_gone", {
      campaign: unit.campaign,
      occurrence: unit.occurrence,
      step: unit.step,
    });
    return;
  }
  const held = await claimOccurrence(tc.env.DB, stage, Date.parse(unit.occurrence), tc.now, {
    takeOverHeld: redelivered,
  });
  if (!held) {
    tc.report.already_claimed += 1;
    return;
  }
  logTick(tc, "tick.claim", {
    campaign: unit.campaign,
    occurrence: held.row.occurrence,
    step: unit.step,
    resumed: held.resumed,
  });
  await runHeld(tc, stage, await withOrphanSends(tc, held));
}

/**
 * A run taken over from a tick or consumer that died: the sends it stored after its last saved page are
 * added to the run's counts (the resumed audience no longer reads those customers), so the run's
 * totals match a run that never died. One range seek of the sends key.
 */
async function withOrphanSends(tc: TickContext, held: HeldRun): Promise<HeldRun> {
  if (!held.resumed) return held;
  const { row } = held;
  const orphans = await tc.env.DB.prepare(
    `SELECT count(*) AS sent, coalesce(sum(not_before > created_at), 0) AS deferred FROM sends
     WHERE programme_kind = 'campaign' AND programme_key = ?1 AND occurrence = ?2 AND step = ?3 AND customer_id > ?4`,
  )
    .bind(row.campaign, row.occurrence, row.step, row.cursor ?? "")
    .first<{ sent: number; deferred: number }>();
  if (!orphans || orphans.sent === 0) return held;
  const stats = JSON.parse(row.stats) as RunStats;
  const counted: RunStats = {
    ...stats,
    audience: stats.audience + orphans.sent,
    sent: stats.sent + orphans.sent,
    deferred: stats.deferred + orphans.deferred,
  };
  return { ...held, row: { ...row, stats: JSON.stringify(counted) } };
}

/**
 * Resumes lapsed runs, counting the sends a dead holder stored after its last saved page; false when
 * the budget ran out before all were.
 */
async function resumeLapsed(
  tc: TickContext,
  stagesByKey: ReadonlyMap<string, CampaignStage>,
): Promise<boolean> {
  const lapsed = await lapsedRuns(tc.env.DB, tc.now, 50);
  for (const row of lapsed) {
    if (tc.budget.exhausted()) return false;
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
    const counted = tc.dryRun ? held : await withOrphanSends(tc, held);
    await runHeld(tc, stagesByKey.get(stageKey(row.campaign, Number(row.step), row.offset_ms)), counted);
  }
  return true;
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
