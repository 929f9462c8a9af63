/**
 * A whole tick across every shard in one invocation: `POST /v1/admin/tick` on a sharded deployment
 * (and the scheduled tick where no rebound-ticks queue is bound). Each shard runs every unit of the
 * tick (`runTick` on that shard, catch-up from the control database's `tick` watermark), shards in
 * parallel with the query budget split between them, and the answer is ONE report that adds up
 * across shards (`mergeShardReports`): the runs of one occurrence step are summed into one, errors
 * name their shard, and `shards` gives each shard's own figures. The control `tick` watermark moves
 * when every shard finished cleanly; each shard's `lifecycle` watermark moves with its own part.
 *
 * Flow: admin route / scheduled → runShardedTick → runTick per shard → mergeShardReports.
 */
import type { Ruleset } from "../../dsl";
import type { ArchiveReport } from "../archive/archive-events";
import { allShards, controlDatabase } from "../db/shards";
import type { Env } from "../env";
import { EMPTY_STATS, type RunStats } from "./claims";
import { DryRunEffects } from "./dry-run";
import { catchUpFrom } from "./due";
import { TICK_LIMITS } from "./limits";
import { type CampaignRunReport, emptyReport, type TickReport } from "./report";
import { runTick } from "./run-tick";
import { advanceWatermark, readWatermarks } from "./state";

export interface ShardedTickOptions {
  ruleset: Ruleset;
  /** D1 queries the whole tick may spend, split evenly between the shards (default TICK_LIMITS.queryBudget). */
  queryBudget?: number;
  audiencePageSize?: number;
  /** Run dry on every shard: nothing is written anywhere. */
  dryRun?: boolean;
}

/** One shard's report, as runTick returned it. */
export interface ShardReport {
  readonly shard: number;
  readonly report: TickReport;
}

/** A sharded tick's merged report, and for a dry run its effects merged across shards. */
export interface ShardedTickResult {
  report: TickReport;
  dryRun: ReturnType<DryRunEffects["toJSON"]> | null;
}

/**
 * Runs the tick at `at` on every shard and merges the reports.
 *
 * @example const { report } = await runShardedTick(env, at, { ruleset })
 */
export async function runShardedTick(
  env: Env,
  at: number,
  options: ShardedTickOptions,
): Promise<ShardedTickResult> {
  const control = controlDatabase(env);
  const marks = await readWatermarks(control);
  const from = catchUpFrom(marks.tick, at);
  const shards = allShards(env);
  const queryBudget = Math.floor((options.queryBudget ?? TICK_LIMITS.queryBudget) / shards.length);
  const parts = await Promise.all(
    shards.map(async (shard) => {
      const effects = options.dryRun ? new DryRunEffects() : null;
      let report: TickReport;
      try {
        report = await runTick(env, at, {
          ruleset: options.ruleset,
          shard,
          catchUpFrom: from,
          queryBudget,
          dryRun: effects,
          ...(options.audiencePageSize === undefined ? {} : { audiencePageSize: options.audiencePageSize }),
        });
      } catch (error) {
        // The shard's database failed before its programmes ran (the watermark read): reported, not thrown.
        report = emptyReport(at, from);
        report.errors.push({
          programme: "tick",
          message: error instanceof Error ? error.message : String(error),
        });
        report.clean = false;
      }
      return { shard: shard.index, report, effects };
    }),
  );
  const report = mergeShardReports(at, from, parts);
  if (report.clean && !options.dryRun) await advanceWatermark(control, "tick", at).run();
  const dryRun = options.dryRun ? mergeDryRuns(parts.map((part) => part.effects!.toJSON())) : null;
  return { report, dryRun };
}

/**
 * One report for a tick that ran on several shards: counts summed, the runs of one occurrence step
 * (campaign, occurrence, step, due time) merged into one run with summed figures, errors listed with
 * their shard, and each shard's own figures under `shards`.
 */
export function mergeShardReports(at: number, from: number, parts: readonly ShardReport[]): TickReport {
  const merged = emptyReport(at, from);
  const runs = new Map<string, CampaignRunReport>();
  const catchUp = new Set<string>();
  merged.shards = [];
  for (const { shard, report } of parts) {
    for (const run of report.campaigns) {
      const key = JSON.stringify([run.campaign, run.occurrence, run.step, run.due_at]);
      const earlier = runs.get(key);
      runs.set(key, earlier ? mergeRuns(earlier, run) : { ...run });
    }
    for (const skipped of report.catch_up) {
      // Every shard computes the same catch-up from the control watermark: listed once.
      const key = JSON.stringify([skipped.campaign, skipped.step]);
      if (catchUp.has(key)) continue;
      catchUp.add(key);
      merged.catch_up.push(skipped);
    }
    merged.already_claimed += report.already_claimed;
    for (const field of ["opened", "recovered", "canceled", "final_actions", "sent", "rows_read"] as const)
      merged.dunning[field] += report.dunning[field];
    addCounts(merged.dunning.steps, report.dunning.steps);
    for (const field of ["sent", "deferred", "no_offer", "rows_read"] as const)
      merged.lifecycle[field] += report.lifecycle[field];
    addCounts(merged.lifecycle.steps, report.lifecycle.steps);
    merged.lifecycle.window = widerWindow(merged.lifecycle.window, report.lifecycle.window);
    merged.lifecycle.truncated ||= report.lifecycle.truncated;
    merged.republished += report.republished;
    merged.archive = mergeArchive(merged.archive, report.archive);
    merged.legacy_profiles_upgraded += report.legacy_profiles_upgraded;
    merged.queries += report.queries;
    merged.rows_read += report.rows_read;
    merged.errors.push(...report.errors.map((error) => ({ ...error, shard })));
    merged.clean &&= report.clean;
    merged.shards.push({
      shard,
      clean: report.clean,
      runs: report.campaigns.length,
      sent:
        report.campaigns.reduce((sum, run) => sum + run.sent, 0) +
        report.dunning.sent +
        report.lifecycle.sent,
      queries: report.queries,
      rows_read: report.rows_read,
      errors: report.errors.length,
    });
  }
  merged.campaigns = [...runs.values()];
  return merged;
}

const STAT_FIELDS = Object.keys(EMPTY_STATS) as (keyof RunStats)[];

/** Two shards' parts of one occurrence step: figures summed; paused or lost if any part was. */
function mergeRuns(a: CampaignRunReport, b: CampaignRunReport): CampaignRunReport {
  const run: CampaignRunReport = {
    ...a,
    resumed: a.resumed || b.resumed,
    status: worseStatus(a.status, b.status),
  };
  for (const field of STAT_FIELDS) run[field] = a[field] + b[field];
  run.rows_read_per_selected =
    run.audience === 0 ? null : Math.round((run.rows_read / run.audience) * 100) / 100;
  return run;
}

const STATUS_ORDER: readonly CampaignRunReport["status"][] = ["done", "expired", "lost", "paused"];

function worseStatus(
  a: CampaignRunReport["status"],
  b: CampaignRunReport["status"],
): CampaignRunReport["status"] {
  return STATUS_ORDER.indexOf(a) >= STATUS_ORDER.indexOf(b) ? a : b;
}

function addCounts(into: Record<string, number>, counts: Readonly<Record<string, number>>): void {
  for (const [key, value] of Object.entries(counts)) into[key] = (into[key] ?? 0) + value;
}

type Window = TickReport["lifecycle"]["window"];

/** The span of two shards' lifecycle windows (each shard starts at its own watermark). */
function widerWindow(a: Window, b: Window): Window {
  if (!a || !b) return a ?? b;
  return { from: a.from < b.from ? a.from : b.from, to: a.to > b.to ? a.to : b.to };
}

function mergeArchive(a: ArchiveReport | null, b: ArchiveReport | null): ArchiveReport | null {
  if (!a || !b) return a ?? b;
  const earliest = (x: string | null, y: string | null) => (x === null ? y : y === null ? x : x < y ? x : y);
  return {
    skipped: a.skipped === b.skipped ? a.skipped : null,
    sealed_before: earliest(a.sealed_before, b.sealed_before),
    days_finished: [...new Set([...a.days_finished, ...b.days_finished])].sort(),
    day_in_progress: earliest(a.day_in_progress, b.day_in_progress),
    events: a.events + b.events,
    objects: a.objects + b.objects,
    erasure_objects_rewritten: a.erasure_objects_rewritten + b.erasure_objects_rewritten,
  };
}

type DryRunJson = ReturnType<DryRunEffects["toJSON"]>;

/**
 * The effects of a dry tick on every shard as one answer: each list is the shards' lists one after
 * another, cut at TICK_LIMITS.dryRunListLimit, and `truncated` counts what was left out.
 */
export function mergeDryRuns(parts: readonly DryRunJson[]): DryRunJson {
  const limit = TICK_LIMITS.dryRunListLimit;
  const listed = <T>(lists: readonly T[][]): { items: T[]; leftOut: number } => {
    const all = lists.flat();
    return { items: all.slice(0, limit), leftOut: Math.max(0, all.length - limit) };
  };
  const sum = (pick: (part: DryRunJson) => number) => parts.reduce((total, part) => total + pick(part), 0);
  const sends = listed(parts.map((part) => part.effects.sends));
  const decisions = listed(parts.map((part) => part.effects.decisions));
  const exclusions = listed(parts.map((part) => part.effects.exclusions));
  const opened = listed(parts.map((part) => part.effects.dunning.opened));
  const closed = listed(parts.map((part) => part.effects.dunning.closed));
  const cancellations = listed(parts.map((part) => part.effects.dunning.cancellations));
  const archives = parts.map((part) => part.effects.archive).filter((archive) => archive !== null);
  return {
    effects: {
      sends: sends.items,
      decisions: decisions.items,
      dunning: { opened: opened.items, closed: closed.items, cancellations: cancellations.items },
      exclusions: exclusions.items,
      republish: sum((part) => part.effects.republish),
      archive: archives[0]
        ? {
            ...archives[0],
            erasures_to_continue: archives.reduce(
              (total, archive) => total + archive.erasures_to_continue,
              0,
            ),
          }
        : null,
    },
    truncated: {
      sends: sum((part) => part.truncated.sends) + sends.leftOut,
      decisions: sum((part) => part.truncated.decisions) + decisions.leftOut,
      exclusions: sum((part) => part.truncated.exclusions) + exclusions.leftOut,
      dunning_opened: sum((part) => part.truncated.dunning_opened) + opened.leftOut,
      dunning_closed: sum((part) => part.truncated.dunning_closed) + closed.leftOut,
      dunning_cancellations: sum((part) => part.truncated.dunning_cancellations) + cancellations.leftOut,
    },
  };
}
