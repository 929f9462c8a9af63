/**
 * One tick, at a given moment: the scheduled handler and `POST /v1/admin/tick` both call
 * `runTick`. In order: publish sends that came due (deferred past the queue's delay limit, or
 * orphaned by a crash), campaigns (resume lapsed runs, then claim and run due occurrences), dunning,
 * then the windowed lifecycle programmes, and last the archiver (raw events older than the rules'
 * retention move to R2, a bounded slice per tick). A programme that fails is logged and reported and
 * the others still run; the watermarks move only when everything before the archiver finished, so the
 * next tick catches up (an unfinished archive simply resumes).
 *
 * A dry run (`options.dryRun`, the admin route's `"dry_run": true`) runs the same code with a
 * recorder in place of every write (dry-run.ts) and handles that refuse writes (read-only-db.ts):
 * it reports what the tick would do and leaves D1, the queue, R2 and the watermarks as they were.
 *
 * On a sharded deployment runTick runs on one shard (`options.shard`): the tick's database is that
 * shard's, and the bindings below it see one database, so every module works as it does on one. With
 * `options.unit` it runs only that unit (a rebound-ticks message, units.ts); the `tick` watermark is
 * then the dispatcher's (dispatch.ts, sharded-tick.ts) and only the shard's `lifecycle` moves here.
 *
 * Flow: scheduled / admin route → runTick → campaigns.ts, dunning.ts, lifecycle.ts → enqueueSends →
 * rebound-sends queue → consumer (worker/sends/consume.ts).
 */
import type { Ruleset } from "../../dsl";
import { archiveEvents, archivePreview } from "../archive/archive-events";
import type { Shard } from "../db/shards";
import type { Env } from "../env";
import { continueErasures, erasuresToContinue } from "../privacy/customer-data";
import { dueUnpublishedSends, publishDueSends, publishSimulatedDueSends } from "../sends/publish";
import { QueryBudget } from "./budget";
import { resumeLapsedCampaigns, runCampaigns, runCampaignUnit } from "./campaigns";
import type { TickContext } from "./context";
import type { DryRunEffects } from "./dry-run";
import { catchUpFrom } from "./due";
import { runDunning } from "./dunning";
import { upgradeLegacyProfilesStage } from "./legacy-profiles";
import { runLifecycle } from "./lifecycle";
import { TICK_LIMITS } from "./limits";
import { logTick } from "./log";
import { REFUSING_QUEUE, ReadOnlyD1 } from "./read-only-db";
import { emptyReport, type TickReport } from "./report";
import { advanceShardLifecycle, advanceWatermark, readWatermarks } from "./state";
import { claimUnit, finishUnit, pruneUnitClaims } from "./unit-claims";
import { type TickUnit, unitKey } from "./units";

export interface TickOptions {
  /**
   * The ruleset to run, chosen by the entry point (scheduled: the deployed one; the admin route: the
   * request's): every programme, every offer a message carries and every message use it.
   */
  ruleset: Ruleset;
  /** D1 queries this tick may spend (default TICK_LIMITS.queryBudget). */
  queryBudget?: number;
  /** Customers per audience page (default TICK_LIMITS.audiencePageSize). */
  audiencePageSize?: number;
  /**
   * Run dry: record what the tick would write here instead of writing it (the report then holds
   * the counts the tick would have). Nothing is written to D1, the queue or R2.
   */
  dryRun?: DryRunEffects | null;
  /**
   * Sharded: the shard this tick runs on (its database becomes the tick's; the tick's bindings say
   * one database). Unset: `DB`, the one database, as always.
   */
  shard?: Shard;
  /** Sharded: where campaign catch-up starts, from the control database's `tick` watermark. */
  catchUpFrom?: number;
  /** Sharded: run only this unit on `shard` (a rebound-ticks message). */
  unit?: TickUnit;
  /** The unit's message was redelivered: a claim of the unit still running is taken over. */
  redelivered?: boolean;
}

/**
 * Runs every scheduled programme as of `now` (epoch ms) and returns what it did.
 *
 * @example await runTick(env, controller.scheduledTime, { ruleset: deployedRuleset() })
 */
export async function runTick(bindings: Env, now: number, options: TickOptions): Promise<TickReport> {
  const ruleset = options.ruleset;
  const dryRun = options.dryRun ?? null;
  const database = options.shard?.db ?? bindings.DB;
  // The budget is the tick's database handle: everything below queries through it and is counted there.
  const budget = new QueryBudget(dryRun ? new ReadOnlyD1(database) : database, options.queryBudget);
  const local = options.shard ? oneDatabaseBindings(bindings) : bindings;
  const env: Env = dryRun
    ? { ...local, DB: budget, SENDS: REFUSING_QUEUE, ARCHIVE: undefined }
    : { ...local, DB: budget };
  const unit = options.unit ?? null;
  const marks = await readWatermarks(env.DB);
  const from = options.catchUpFrom ?? catchUpFrom(marks.tick, now);
  const report = emptyReport(now, from);
  const tc: TickContext = {
    env,
    now,
    ruleset,
    budget,
    report,
    audiencePageSize: options.audiencePageSize ?? TICK_LIMITS.audiencePageSize,
    dryRun,
    continued: unit?.kind === "campaign",
  };

  // A programme unit runs once per (unit, tick) on its shard, however many messages name it.
  const heldUnit =
    unit?.kind === "programme" && !dryRun
      ? await claimUnit(env.DB, unitKey(unit), now, options.redelivered === true)
      : null;
  if (unit?.kind === "programme" && !dryRun && !heldUnit) {
    report.already_claimed += 1;
    return finishReport(tc);
  }
  /** Whether this tick runs programme `name`: all of them, or the one its unit names. */
  const runs = (name: string): boolean =>
    unit === null || (unit.kind === "programme" && unit.programme === name);

  const guarded = async (name: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      report.errors.push({ programme: name, message });
      logTick(tc, "tick.programme_error", { programme: name, error: message, at: report.at });
    }
  };
  const programme = async (name: string, run: () => Promise<void>): Promise<void> => {
    if (runs(name)) await guarded(name, run);
  };
  await programme("publish", async () => {
    if (dryRun) dryRun.republish = report.republished = (await dueUnpublishedSends(env, now)).length;
    else {
      report.republished = await publishDueSends(env, now);
      // Stepping through time locally: quiet-hours deferrals the simulated clock has reached.
      if (env.REBOUND_ALLOW_FUTURE_TICKS === "true")
        report.republished += await publishSimulatedDueSends(env, now);
    }
  });
  if (unit === null) await programme("campaigns", () => runCampaigns(tc, from));
  else if (unit.kind === "campaign")
    await guarded("campaigns", () => runCampaignUnit(tc, unit, options.redelivered === true));
  // A sharded tick's publish unit also resumes the shard's campaign runs whose lease lapsed.
  else if (runs("publish")) await guarded("campaigns", () => resumeLapsedCampaigns(tc));
  await programme("dunning", () => runDunning(tc));
  await programme("lifecycle", () => runLifecycle(tc, marks.lifecycle));
  if (!dryRun) await programme("legacy_profiles", () => upgradeLegacyProfilesStage(tc));

  const paused = report.campaigns.some((run) => run.status === "paused") || budget.exhausted();
  report.clean = report.errors.length === 0 && !paused;
  await programme("archive", async () => {
    if (dryRun) {
      const preview = await archivePreview(env.DB, bindings.ARCHIVE !== undefined, {
        now,
        retentionMs: ruleset.ir.eventRetentionMs,
      });
      dryRun.archive = {
        ...preview,
        erasures_to_continue: await erasuresToContinue(env.DB, bindings.ARCHIVE),
        note: "a dry run archives nothing and rewrites no archive object: this is where the tick would start",
      };
      return;
    }
    report.archive = await archiveEvents(env.DB, env.ARCHIVE, {
      now,
      zones: ruleset,
      retentionMs: ruleset.ir.eventRetentionMs,
      exhausted: () => budget.exhausted(60),
      ...(options.shard ? { shard: options.shard.index } : {}),
    });
    report.archive.erasure_objects_rewritten = await continueErasures(env.DB, env.ARCHIVE, now);
  });
  const writes = report.clean && !dryRun ? watermarkWrites(env.DB, now, unit, options.shard) : [];
  // A unit that failed stays claimed and `running`: its message's redelivery takes it over. One that
  // finished, or paused on the budget (a later tick resumes the run), is done.
  if (heldUnit && report.errors.length === 0) writes.push(finishUnit(env.DB, heldUnit));
  if (unit?.kind === "programme" && unit.programme === "publish" && !dryRun)
    writes.push(pruneUnitClaims(env.DB, now));
  if (writes.length > 0) await env.DB.batch(writes);
  return finishReport(tc);
}

/**
 * What a clean tick moves: on one database both watermarks; on a shard its `lifecycle` only (the
 * `tick` watermark is the control database's, moved by whoever fanned the tick out), and for a
 * unit only when the unit was the lifecycle programme; not while a customer is arriving there.
 */
function watermarkWrites(
  db: D1Database,
  now: number,
  unit: TickUnit | null,
  shard: Shard | undefined,
): D1PreparedStatement[] {
  if (!shard) return [advanceWatermark(db, "tick", now), advanceWatermark(db, "lifecycle", now)];
  if (unit === null || (unit.kind === "programme" && unit.programme === "lifecycle"))
    return [advanceShardLifecycle(db, now)];
  return [];
}

/** The bindings a shard's tick hands down: its database is the only one (SHARDS unset). */
function oneDatabaseBindings(bindings: Env): Env {
  return { ...bindings, SHARDS: undefined, SHARDS_FROM: undefined };
}

/** Stamps the budget's counts on the report and logs the tick's last line. */
function finishReport(tc: TickContext): TickReport {
  const { report, budget } = tc;
  report.queries = budget.queries;
  report.rows_read = budget.rowsRead;
  logTick(tc, "tick.done", {
    at: report.at,
    clean: report.clean,
    runs: report.campaigns.length,
    sent:
      report.campaigns.reduce((sum, run) => sum + run.sent, 0) + report.dunning.sent + report.lifecycle.sent,
    errors: report.errors.length,
    queries: report.queries,
    rowsRead: report.rows_read,
  });
  return report;
}
