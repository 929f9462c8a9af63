/**
 * The tick report: what one tick did, programme by programme. The scheduled handler logs it; the
 * admin tick returns it as JSON so an operator (or a test) sees every claim, exclusion and send.
 */
import type { ArchiveReport } from "../archive/archive-events";
import type { RunStats } from "./claims";

export interface CampaignRunReport extends RunStats {
  campaign: string;
  occurrence: string;
  step: string;
  due_at: string;
  /** done; paused (budget; the next tick resumes); lost (another tick took the lease); expired. */
  status: "done" | "paused" | "lost" | "expired";
  resumed: boolean;
  /** D1 rows read per audience member read (the audience page queries only). */
  rows_read_per_selected: number | null;
}

export interface CatchUpReport {
  campaign: string;
  step: string;
  /** Due within the catch-up window but over the per-tick limit: recorded as skipped runs. */
  skipped: string[];
  /** Due before the catch-up window: stale, not run (count). */
  beyond_window: number;
}

export interface LifecycleReport {
  /** Sends created by this tick (a send another tick created first is not counted). */
  sent: number;
  /** Sends asked for, by programme and step (e.g. "winback/price/day-7"). */
  steps: Record<string, number>;
  deferred: number;
  no_offer: number;
  rows_read: number;
  /** The window the scans covered (ISO), or null for scans that read every open case. */
  window: { from: string; to: string } | null;
  /** True when the watermark was older than the catch-up limit and the window was cut. */
  truncated: boolean;
}

export interface DunningReport {
  opened: number;
  recovered: number;
  canceled: number;
  final_actions: number;
  /** Sends created by this tick. */
  sent: number;
  /** Sends asked for, by cadence and step (e.g. "standard/day-3"). */
  steps: Record<string, number>;
  rows_read: number;
}

export interface TickReport {
  at: string;
  /** Campaign catch-up started here (exclusive). */
  catch_up_from: string;
  campaigns: CampaignRunReport[];
  catch_up: CatchUpReport[];
  /** Claims another tick already held or finished (nothing done). */
  already_claimed: number;
  dunning: DunningReport;
  lifecycle: LifecycleReport;
  /** Deferred or orphaned sends this tick put on the queue (publishDueSends). */
  republished: number;
  /** Raw events moved to R2 (worker/archive/); an unfinished day resumes next tick. */
  archive: ArchiveReport | null;
  /** Profiles from before the metrics upgraded and counted (worker/tick/legacy-profiles.ts). */
  legacy_profiles_upgraded: number;
  queries: number;
  rows_read: number;
  /** Programmes that failed (on a sharded deployment, with the shard they failed on). */
  errors: { programme: string; message: string; shard?: number }[];
  /** True when every programme finished: the tick watermark moved to `at`. */
  clean: boolean;
  /** Sharded deployments only: each shard's part (the figures above add them up). */
  shards?: ShardTickFigures[];
}

/** One shard's part of a sharded tick (worker/tick/sharded-tick.ts). */
export interface ShardTickFigures {
  shard: number;
  clean: boolean;
  /** Campaign runs of this shard (its part of each occurrence step). */
  runs: number;
  /** Sends this shard's part of the tick created (campaigns, dunning, lifecycle). */
  sent: number;
  queries: number;
  rows_read: number;
  errors: number;
}

/** An empty report for a tick at `now`. */
export function emptyReport(now: number, catchUpFrom: number): TickReport {
  return {
    at: new Date(now).toISOString(),
    catch_up_from: new Date(catchUpFrom).toISOString(),
    campaigns: [],
    catch_up: [],
    already_claimed: 0,
    dunning: { opened: 0, recovered: 0, canceled: 0, final_actions: 0, sent: 0, steps: {}, rows_read: 0 },
    lifecycle: { sent: 0, steps: {}, deferred: 0, no_offer: 0, rows_read: 0, window: null, truncated: false },
    republished: 0,
    archive: null,
    legacy_profiles_upgraded: 0,
    queries: 0,
    rows_read: 0,
    errors: [],
    clean: true,
  };
}

/** Adds one to `counts[key]`. */
export function count(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
