/**
 * The scheduled tick on a sharded deployment: a dispatcher. It works out what the tick at `at` must
 * do, as one-database ticks do (the control database's `tick` watermark, due occurrences with
 * catch-up from due.ts), and puts one rebound-ticks message per (shard, unit) on the queue: each
 * due campaign stage occurrence, and each other programme (units.ts). The consumer
 * (consume-units.ts) runs each unit on its shard, so shards work in parallel and a slow or failing
 * shard delays only its own units.
 *
 * Nothing is skipped even if a message is lost or dead-lettered: before any message is sent, each
 * shard gets the `campaign_runs` row of every due occurrence step (claims.ts `precreateRuns`), which
 * a later tick's publish unit resumes once its reserved lease lapses; other programmes catch up by
 * themselves on the next tick (their windows start at their shard's watermark). Catch-up skips are
 * recorded on every shard. The control `tick` watermark moves only once every shard has its rows
 * and every message is on the queue; otherwise the next tick dispatches the same work again, which
 * claims nothing twice.
 *
 * Flow: scheduled (index.ts) → dispatchTick → rebound-ticks → consumeTickUnits → runTick (one unit).
 */
import type { Ruleset } from "../../dsl";
import { allShards, controlDatabase, type Shard } from "../db/shards";
import type { Env } from "../env";
import { occurrenceKey, precreateRuns, type RunToCreate, recordSkippedStatement } from "./claims";
import { CATCH_UP_NOTE, catchUpFrom, dueOccurrences } from "./due";
import { logTickEvent } from "./log";
import type { CatchUpReport } from "./report";
import { type CampaignStage, campaignStages } from "./stages";
import { advanceWatermark, readWatermarks } from "./state";
import { PROGRAMME_UNITS, type TickUnit, type TickUnitMessage } from "./units";

/** Messages per sendBatch call (the queue's limit). */
const QUEUE_BATCH = 100;

/** What one dispatch did (logged; returned for tests). */
export interface DispatchReport {
  at: string;
  catch_up_from: string;
  shards: number;
  /** Campaign stage occurrences due, each run on every shard. */
  occurrences: number;
  /** Messages put on rebound-ticks. */
  messages: number;
  catch_up: CatchUpReport[];
  /** Shards whose runs could not be created (their messages went anyway; the next tick retries). */
  failed_shards: { shard: number; message: string }[];
  /** True when the control `tick` watermark moved to `at`. */
  advanced: boolean;
}

/** The due work of a tick: the occurrences to run and the ones catch-up skips. */
interface DuePlan {
  readonly runs: RunToCreate[];
  readonly skips: { stage: CampaignStage; skipped: number[]; beyondWindow: number }[];
}

/**
 * Fans the tick at `at` out to the rebound-ticks queue `queue`, one message per (shard, unit).
 *
 * @example await dispatchTick(env, controller.scheduledTime, { ruleset: deployedRuleset(), queue: env.TICKS })
 */
export async function dispatchTick(
  env: Env,
  at: number,
  options: { ruleset: Ruleset; queue: Queue<unknown> },
): Promise<DispatchReport> {
  const control = controlDatabase(env);
  const marks = await readWatermarks(control);
  const from = catchUpFrom(marks.tick, at);
  const plan = duePlan(options.ruleset, from, at);
  const shards = allShards(env);
  const failed = await prepareShards(shards, plan, at);

  const messages = shards.flatMap((shard) => unitsOf(plan).map((unit) => unitMessage(at, shard, unit)));
  for (let start = 0; start < messages.length; start += QUEUE_BATCH) {
    await options.queue.sendBatch(
      messages.slice(start, start + QUEUE_BATCH).map((body) => ({ body, contentType: "json" as const })),
    );
  }
  const advanced = failed.length === 0;
  if (advanced) await advanceWatermark(control, "tick", at).run();
  const report: DispatchReport = {
    at: new Date(at).toISOString(),
    catch_up_from: new Date(from).toISOString(),
    shards: shards.length,
    occurrences: plan.runs.length,
    messages: messages.length,
    catch_up: plan.skips.map(({ stage, skipped, beyondWindow }) => ({
      campaign: stage.campaign.key,
      step: String(stage.step),
      skipped: skipped.map(occurrenceKey),
      beyond_window: beyondWindow,
    })),
    failed_shards: failed,
    advanced,
  };
  logTickEvent(advanced ? "tick.dispatched" : "tick.dispatch_error", {
    at: report.at,
    shards: report.shards,
    occurrences: report.occurrences,
    messages: report.messages,
    failedShards: failed.map((failure) => failure.shard).join(","),
  });
  return report;
}

/** Every campaign stage's due occurrences between `from` and `at` (due.ts), as one-database ticks see them. */
function duePlan(ruleset: Ruleset, from: number, at: number): DuePlan {
  const runs: RunToCreate[] = [];
  const skips: DuePlan["skips"] = [];
  for (const campaign of ruleset.campaigns.values()) {
    for (const stage of campaignStages(campaign)) {
      const due = dueOccurrences(stage, from, at);
      for (const occurrenceAt of due.run) runs.push({ stage, occurrenceAt });
      if (due.skipped.length > 0 || due.beyondWindow > 0)
        skips.push({ stage, skipped: due.skipped, beyondWindow: due.beyondWindow });
    }
  }
  return { runs, skips };
}

/**
 * Creates every shard's runs and records its catch-up skips, shards in parallel, one D1 batch each.
 * Returns the shards that failed (their runs are created by the consumer's claim instead).
 */
async function prepareShards(
  shards: readonly Shard[],
  plan: DuePlan,
  at: number,
): Promise<{ shard: number; message: string }[]> {
  const outcomes = await Promise.all(
    shards.map(async (shard) => {
      const statements: D1PreparedStatement[] = [];
      if (plan.runs.length > 0) statements.push(precreateRuns(shard.db, plan.runs, at));
      for (const skip of plan.skips) {
        if (skip.skipped.length > 0)
          statements.push(recordSkippedStatement(shard.db, skip.stage, skip.skipped, at, CATCH_UP_NOTE));
      }
      if (statements.length === 0) return null;
      try {
        await shard.db.batch(statements);
        return null;
      } catch (error) {
        return { shard: shard.index, message: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  return outcomes.filter((outcome) => outcome !== null);
}

/** The units of a tick on each shard: its campaign stage occurrences, then every other programme. */
function unitsOf(plan: DuePlan): TickUnit[] {
  const campaignUnits: TickUnit[] = plan.runs.map(({ stage, occurrenceAt }) => ({
    kind: "campaign",
    campaign: stage.campaign.key,
    occurrence: occurrenceKey(occurrenceAt),
    step: String(stage.step),
    offset_ms: stage.offsetMs,
  }));
  return [
    ...PROGRAMME_UNITS.map((programme) => ({ kind: "programme" as const, programme })),
    ...campaignUnits,
  ];
}

function unitMessage(at: number, shard: Shard, unit: TickUnit): TickUnitMessage {
  return { v: 1, at, shard: shard.index, unit };
}
