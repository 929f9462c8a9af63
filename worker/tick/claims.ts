/**
 * Claims on campaign occurrences (`campaign_runs`): each (campaign, occurrence, step, offset) is run
 * by exactly one tick at a time, and to completion by some tick.
 *
 *   (none) ──INSERT…ON CONFLICT DO NOTHING──▶ running ──▶ done
 *                                               │  ▲
 *                          lease lapsed ────────┘  └── takeover (resumes at `cursor`)
 *   running, due longer than staleRunMs ago ──▶ expired;   catch-up overflow ──▶ skipped
 *
 * On a sharded deployment the dispatcher (dispatch.ts) creates each shard's row first, `running`
 * with no lease token (`precreateRuns`): its rebound-ticks message claims it at once, and if that
 * message is lost, a later tick's resume takes it over once the reserved lease lapses. A redelivered
 * message (its consumer crashed or failed) takes over a run still held (`takeOverHeld`).
 *
 * Every write after the claim requires the claim's random `lease_token`, so a tick whose lease was
 * taken over cannot record progress over the new holder's. Leases are in tick time (the scheduled
 * time), so tests move the clock instead of waiting. Sends themselves are unique per
 * (campaign, occurrence, step, customer): even two holders could not send a message twice.
 */
import { newRunId } from "../ids";
import { TICK_LIMITS } from "./limits";
import type { CampaignStage } from "./stages";

/** A `campaign_runs` row as D1 returns it. */
export interface CampaignRunRow {
  id: string;
  campaign: string;
  occurrence: string;
  step: string;
  offset_ms: number;
  due_at: number;
  status: "running" | "done" | "skipped" | "expired";
  lease_token: string | null;
  lease_expires_at: number | null;
  attempts: number;
  cursor: string | null;
  stats: string;
  note: string | null;
  claimed_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** What a run counted, stored as JSON on its row and returned in the tick report. */
export interface RunStats {
  /** Audience members read (not already sent this step): sent + excluded + no message. */
  audience: number;
  /** Sends this run created. */
  sent: number;
  /** Of those, deferred past quiet hours in the customer's zone. */
  deferred: number;
  holdout: number;
  frequency_capped: number;
  /** Sends another holder created first (a concurrent or earlier attempt of this run). */
  already_sent: number;
  /** No offer available and no fallback message: nothing to send. */
  no_offer: number;
  /** D1 rows read by the audience pages. */
  rows_read: number;
  pages: number;
}

export const EMPTY_STATS: RunStats = Object.freeze({
  audience: 0,
  sent: 0,
  deferred: 0,
  holdout: 0,
  frequency_capped: 0,
  already_sent: 0,
  no_offer: 0,
  rows_read: 0,
  pages: 0,
});

/** A run this tick holds. */
export interface HeldRun {
  readonly row: CampaignRunRow;
  readonly token: string;
  /** True when this tick took over a run an earlier tick left unfinished. */
  readonly resumed: boolean;
}

/** The ISO text that names an occurrence in `campaign_runs` and `sends`. */
export function occurrenceKey(occurrenceAt: number): string {
  return new Date(occurrenceAt).toISOString();
}

/**
 * Claims one stage occurrence: creates its run, or takes over a run whose lease lapsed. Null when
 * the run is finished or another tick holds it.
 */
export async function claimOccurrence(
  db: D1Database,
  stage: CampaignStage,
  occurrenceAt: number,
  now: number,
  options: { takeOverHeld?: boolean } = {},
): Promise<HeldRun | null> {
  const token = crypto.randomUUID();
  const occurrence = occurrenceKey(occurrenceAt);
  const created = await db
    .prepare(
      `INSERT INTO campaign_runs (id, campaign, occurrence, step, offset_ms, due_at, status, lease_token,
         lease_expires_at, attempts, cursor, stats, claimed_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'running', ?7, ?8, 1, NULL, ?9, ?10, ?10)
       ON CONFLICT (campaign, occurrence, step, offset_ms) DO NOTHING
       RETURNING *`,
    )
    .bind(
      newRunId(now),
      stage.campaign.key,
      occurrence,
      String(stage.step),
      stage.offsetMs,
      occurrenceAt + stage.offsetMs,
      token,
      now + TICK_LIMITS.leaseMs,
      JSON.stringify(EMPTY_STATS),
      now,
    )
    .first<CampaignRunRow>();
  if (created) return { row: created, token, resumed: false };
  const taken = await db
    .prepare(
      `UPDATE campaign_runs SET lease_token = ?5, lease_expires_at = ?6, attempts = attempts + 1, updated_at = ?7
       WHERE campaign = ?1 AND occurrence = ?2 AND step = ?3 AND offset_ms = ?4
         AND status = 'running' AND (lease_expires_at <= ?7 OR lease_token IS NULL OR ?8)
       RETURNING *`,
    )
    .bind(
      stage.campaign.key,
      occurrence,
      String(stage.step),
      stage.offsetMs,
      token,
      now + TICK_LIMITS.leaseMs,
      now,
      options.takeOverHeld === true ? 1 : 0,
    )
    .first<CampaignRunRow>();
  // A run the dispatcher created is claimed for the first time here (attempts 0 → 1).
  return taken ? { row: taken, token, resumed: taken.attempts > 1 } : null;
}

/**
 * What `claimOccurrence` would do, read-only (a dry tick): the run it would create (not stored), the
 * lapsed run it would take over, or null when the run is finished or another tick holds it.
 */
export async function wouldClaimOccurrence(
  db: D1Database,
  stage: CampaignStage,
  occurrenceAt: number,
  now: number,
): Promise<HeldRun | null> {
  const occurrence = occurrenceKey(occurrenceAt);
  const existing = await db
    .prepare(
      `SELECT * FROM campaign_runs WHERE campaign = ?1 AND occurrence = ?2 AND step = ?3 AND offset_ms = ?4`,
    )
    .bind(stage.campaign.key, occurrence, String(stage.step), stage.offsetMs)
    .first<CampaignRunRow>();
  if (existing) {
    const lapsed =
      existing.status === "running" &&
      (existing.lease_token === null ||
        (existing.lease_expires_at !== null && existing.lease_expires_at <= now));
    return lapsed ? { row: existing, token: DRY_RUN_TOKEN, resumed: existing.attempts > 0 } : null;
  }
  const row: CampaignRunRow = {
    id: newRunId(now),
    campaign: stage.campaign.key,
    occurrence,
    step: String(stage.step),
    offset_ms: stage.offsetMs,
    due_at: occurrenceAt + stage.offsetMs,
    status: "running",
    lease_token: DRY_RUN_TOKEN,
    lease_expires_at: now + TICK_LIMITS.leaseMs,
    attempts: 1,
    cursor: null,
    stats: JSON.stringify(EMPTY_STATS),
    note: null,
    claimed_at: now,
    updated_at: now,
    finished_at: null,
  };
  return { row, token: DRY_RUN_TOKEN, resumed: false };
}

/** A campaign stage occurrence the dispatcher creates a run for on a shard. */
export interface RunToCreate {
  readonly stage: CampaignStage;
  readonly occurrenceAt: number;
}

/**
 * Creates the runs of a sharded tick's campaign units on one shard, unless they exist: `running`,
 * no lease token (the unit's message claims it at once), attempts 0, and a lease reserved until
 * `now + leaseMs`, after which a later tick's resume takes over a run whose message never came.
 */
export function precreateRuns(
  db: D1Database,
  runs: readonly RunToCreate[],
  now: number,
): D1PreparedStatement {
  const rows = runs.map(({ stage, occurrenceAt }, index) => ({
    id: newRunId(now, index),
    campaign: stage.campaign.key,
    occurrence: occurrenceKey(occurrenceAt),
    step: String(stage.step),
    offset_ms: stage.offsetMs,
    due_at: occurrenceAt + stage.offsetMs,
  }));
  // One bound JSON array: D1 allows at most 100 bound parameters per statement.
  return db
    .prepare(
      `INSERT INTO campaign_runs (id, campaign, occurrence, step, offset_ms, due_at, status, lease_token,
         lease_expires_at, attempts, cursor, stats, claimed_at, updated_at)
       SELECT r.value ->> 'id', r.value ->> 'campaign', r.value ->> 'occurrence', r.value ->> 'step',
         r.value ->> 'offset_ms', r.value ->> 'due_at', 'running', NULL, ?2, 0, NULL, ?3, ?4, ?4
       FROM json_each(?1) AS r WHERE true
       ON CONFLICT (campaign, occurrence, step, offset_ms) DO NOTHING`,
    )
    .bind(JSON.stringify(rows), now + TICK_LIMITS.leaseMs, JSON.stringify(EMPTY_STATS), now);
}

/** The lease token of a dry tick's claims: never stored, so it matches no row. */
export const DRY_RUN_TOKEN = "dry-run";

/** Runs left `running` by a tick that died or paused (lease lapsed at `now`), oldest first. */
export async function lapsedRuns(db: D1Database, now: number, limit: number): Promise<CampaignRunRow[]> {
  const { results } = await db
    .prepare(
      `SELECT * FROM campaign_runs WHERE status = 'running' AND lease_expires_at <= ?1
       ORDER BY lease_expires_at LIMIT ?2`,
    )
    .bind(now, limit)
    .all<CampaignRunRow>();
  return results;
}

/** Takes over a lapsed run by id. Null when another tick got it first. */
export async function takeOverRun(db: D1Database, runId: string, now: number): Promise<HeldRun | null> {
  const token = crypto.randomUUID();
  const row = await db
    .prepare(
      `UPDATE campaign_runs SET lease_token = ?2, lease_expires_at = ?3, attempts = attempts + 1, updated_at = ?4
       WHERE id = ?1 AND status = 'running' AND lease_expires_at <= ?4
       RETURNING *`,
    )
    .bind(runId, token, now + TICK_LIMITS.leaseMs, now)
    .first<CampaignRunRow>();
  return row ? { row, token, resumed: true } : null;
}

/**
 * Records a finished page: the keyset position and the counters, and renews the lease. False when
 * the lease was lost (another tick took the run over): the caller must stop.
 */
export function saveProgress(
  db: D1Database,
  run: HeldRun,
  cursor: string,
  stats: RunStats,
  now: number,
): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE campaign_runs SET cursor = ?3, stats = ?4, lease_expires_at = ?5, updated_at = ?6
       WHERE id = ?1 AND lease_token = ?2 AND status = 'running'`,
    )
    .bind(run.row.id, run.token, cursor, JSON.stringify(stats), now + TICK_LIMITS.leaseMs, now);
}

/** Marks a held run `done`. False when the lease was lost. */
export async function finishRun(
  db: D1Database,
  run: HeldRun,
  stats: RunStats,
  now: number,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE campaign_runs SET status = 'done', stats = ?3, lease_token = NULL, lease_expires_at = NULL,
         updated_at = ?4, finished_at = ?4
       WHERE id = ?1 AND lease_token = ?2 AND status = 'running'`,
    )
    .bind(run.row.id, run.token, JSON.stringify(stats), now)
    .run();
  return result.meta.changes > 0;
}

/**
 * Releases a held run at once (the tick ran out of budget, or failed): the next tick resumes it
 * from its cursor without waiting for the lease to lapse.
 */
export async function releaseRun(db: D1Database, run: HeldRun, now: number, note: string): Promise<void> {
  await db
    .prepare(
      `UPDATE campaign_runs SET lease_expires_at = ?3, note = ?4, updated_at = ?3
       WHERE id = ?1 AND lease_token = ?2 AND status = 'running'`,
    )
    .bind(run.row.id, run.token, now, note)
    .run();
}

/** Gives up on a held run that is too old to send (its messages would be stale). */
export async function expireRun(db: D1Database, run: HeldRun, now: number, note: string): Promise<void> {
  await db
    .prepare(
      `UPDATE campaign_runs SET status = 'expired', note = ?3, lease_token = NULL, lease_expires_at = NULL,
         updated_at = ?4, finished_at = ?4
       WHERE id = ?1 AND lease_token = ?2 AND status = 'running'`,
    )
    .bind(run.row.id, run.token, note, now)
    .run();
}

/** Records due occurrences the catch-up did not run, so they show as skipped instead of vanishing. */
export async function recordSkipped(
  db: D1Database,
  stage: CampaignStage,
  occurrences: readonly number[],
  now: number,
  note: string,
): Promise<number> {
  if (occurrences.length === 0) return 0;
  const result = await recordSkippedStatement(db, stage, occurrences, now, note).run();
  return result.meta.changes;
}

/** `recordSkipped` as a statement, for a batch (a sharded tick records skips on every shard). */
export function recordSkippedStatement(
  db: D1Database,
  stage: CampaignStage,
  occurrences: readonly number[],
  now: number,
  note: string,
): D1PreparedStatement {
  const rows = occurrences.map((at, index) => ({
    id: newRunId(now, index),
    occurrence: occurrenceKey(at),
    due_at: at + stage.offsetMs,
  }));
  // One bound JSON array: D1 allows at most 100 bound parameters per statement.
  return db
    .prepare(
      `INSERT INTO campaign_runs (id, campaign, occurrence, step, offset_ms, due_at, status, attempts, stats,
         note, claimed_at, updated_at, finished_at)
       SELECT r.value ->> 'id', ?2, r.value ->> 'occurrence', ?3, ?4, r.value ->> 'due_at', 'skipped', 0, ?5,
         ?6, ?7, ?7, ?7
       FROM json_each(?1) AS r WHERE true
       ON CONFLICT (campaign, occurrence, step, offset_ms) DO NOTHING`,
    )
    .bind(
      JSON.stringify(rows),
      stage.campaign.key,
      String(stage.step),
      stage.offsetMs,
      JSON.stringify(EMPTY_STATS),
      note,
      now,
    );
}
