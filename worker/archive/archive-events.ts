/**
 * The archiver: moves raw events older than the rules' retention (`settings.event_retention`) from D1
 * to R2, one UTC day at a time, oldest first, so the `events` table holds only what the rules' windows
 * can read. Profiles (the fold state) and the compact daily history (`event_days`) are untouched: they
 * stay exact for every event ever accepted.
 *
 * Objects: `events/day=YYYY-MM-DD/part-NNNNN.ndjson`, one JSON event per line
 * (`{"id","customer_id","type","occurred_at","received_at","properties"}`, times in ISO 8601 UTC),
 * Hive-style day partitions that DuckDB, Spark or BigQuery load as they are. On a sharded deployment
 * each shard archives its own customers' events, shard i ≥ 1 as `part-sII-NNNNN.ndjson` in the same
 * day partition (worker/db/shards.ts), so shards never write each other's objects.
 *
 * Loses nothing, duplicates nothing, resumable:
 * - a day is *sealed* before its first page (`tick_state.events_sealed_before`): from then on ingest
 *   refuses events dated before the seal, and a trigger on `events` enforces it for requests in flight,
 *   so no event can land behind the archiver's cursor;
 * - a page is the events of the next (type, customer) pairs of the day in `event_days` order; it is
 *   written to R2 first, then deleted from D1 in the batch that advances the day's cursor. A run that
 *   dies between the two finds the same cursor, builds the same page and overwrites the same object
 *   with the same bytes; a concurrent run does the same;
 * - each tick archives at most `maxEvents` events (and stops early when the tick's query budget runs
 *   low); the next tick resumes at the cursor.
 */
import { DAY_MS, dayOf } from "../ingest/event-days";
import { SEAL_KEY, upgradeLegacyProfiles } from "../ingest/write-events";
import type { ReportingZoneSettings } from "../metrics/days";

export const ARCHIVE_LIMITS = Object.freeze({
  /** Events archived per tick (a page may pass it by one (type, customer) pair's events). */
  maxEventsPerTick: 5_000,
  /** (type, customer) pairs considered per page. */
  pairsPerPage: 200,
});

export interface ArchiveReport {
  /** Why nothing was archived, when nothing could be. */
  skipped: "no_retention" | "no_bucket" | null;
  /** Events before this instant are archived (ISO), or null before the first archived day. */
  sealed_before: string | null;
  days_finished: string[];
  /** The day in progress when the tick stopped (ISO date), or null when none is. */
  day_in_progress: string | null;
  events: number;
  objects: number;
  /** Archive objects rewritten for erasures left unfinished by their request (worker/privacy/). */
  erasure_objects_rewritten: number;
}

export interface ArchiveOptions {
  now: number;
  /** The rules' reporting zones: a legacy profile upgraded before archiving counts its movements there. */
  zones: ReportingZoneSettings;
  /** `ruleset.ir.eventRetentionMs`: null keeps raw events forever. */
  retentionMs: number | null;
  maxEvents?: number;
  /** The shard whose events these are (default 0: the one database); names its objects. */
  shard?: number;
  /** Stop when this says so (the tick's query budget). */
  exhausted?: () => boolean;
  /** Test seam: runs after a page's object is written and before its events are deleted. */
  afterPut?: (key: string) => void;
}

interface DayRow {
  day: number;
  cursor_type: string | null;
  cursor_customer_id: string | null;
  parts: number;
}

interface ArchivedEvent {
  id: string;
  customer_id: string;
  type: string;
  occurred_at: number;
  received_at: number;
  properties: string;
}

export const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export const partKey = (day: number, part: number, shard = 0) =>
  `events/day=${isoDay(day)}/part-${shard === 0 ? "" : `s${String(shard).padStart(2, "0")}-`}${String(part).padStart(5, "0")}.ndjson`;

/** One archived event as its NDJSON line. */
export function archiveLine(event: ArchivedEvent): string {
  return `{"id":${JSON.stringify(event.id)},"customer_id":${JSON.stringify(event.customer_id)},"type":${JSON.stringify(event.type)},"occurred_at":${JSON.stringify(new Date(event.occurred_at).toISOString())},"received_at":${JSON.stringify(new Date(event.received_at).toISOString())},"properties":${event.properties}}`;
}

export async function archiveEvents(
  db: D1Database,
  bucket: R2Bucket | undefined,
  options: ArchiveOptions,
): Promise<ArchiveReport> {
  const report: ArchiveReport = {
    skipped: null,
    sealed_before: null,
    days_finished: [],
    day_in_progress: null,
    events: 0,
    objects: 0,
    erasure_objects_rewritten: 0,
  };
  if (options.retentionMs === null) return { ...report, skipped: "no_retention" };
  if (!bucket) return { ...report, skipped: "no_bucket" };
  const maxEvents = options.maxEvents ?? ARCHIVE_LIMITS.maxEventsPerTick;
  // Whole days only: a day is archived once all of it is older than the retention.
  const firstKeptDay = dayOf(options.now - options.retentionMs);

  while (report.events < maxEvents && !options.exhausted?.()) {
    const current = await dayInProgress(db, firstKeptDay, options.now);
    if (!current) break;
    report.sealed_before = new Date((current.day + 1) * DAY_MS).toISOString();
    report.day_in_progress = isoDay(current.day);
    const page = await db
      .prepare(
        `SELECT type, customer_id FROM event_days
         WHERE day = ?1 AND (?2 IS NULL OR (type, customer_id) > (?2, ?3))
         GROUP BY type, customer_id ORDER BY type, customer_id LIMIT ?4`,
      )
      .bind(current.day, current.cursor_type, current.cursor_customer_id, ARCHIVE_LIMITS.pairsPerPage)
      .all<{ type: string; customer_id: string }>();
    if (page.results.length === 0) {
      await db
        .prepare("UPDATE archive_days SET status = 'archived', finished_at = ?2 WHERE day = ?1")
        .bind(current.day, options.now)
        .run();
      report.days_finished.push(isoDay(current.day));
      report.day_in_progress = null;
      continue;
    }
    const pairs = page.results.map((row) => [row.type, row.customer_id]);
    const events = await db
      .prepare(
        `SELECT e.id, e.customer_id, e.type, e.occurred_at, e.received_at, e.properties
         FROM json_each(?1) p JOIN events e
           ON e.customer_id = json_extract(p.value, '$[1]') AND e.type = json_extract(p.value, '$[0]')
          AND e.occurred_at >= ?2 AND e.occurred_at < ?3
         ORDER BY e.type, e.customer_id, e.occurred_at, e.id`,
      )
      .bind(JSON.stringify(pairs), current.day * DAY_MS, (current.day + 1) * DAY_MS)
      .all<ArchivedEvent>();
    // Keep the page within the budget: whole pairs, at least one.
    const { taken, last } = takeWithinBudget(events.results, page.results, maxEvents - report.events);
    const part = current.parts + 1;
    // A profile from before the fold state is rebuilt from its stored events: do it while they are here.
    await upgradeLegacyProfiles(
      db,
      [...new Set(taken.map((event) => event.customer_id))],
      options.zones,
      "throw",
    );
    if (taken.length > 0) {
      const key = partKey(current.day, part, options.shard);
      const first = taken[0]!;
      const final = taken[taken.length - 1]!;
      await bucket.put(key, `${taken.map(archiveLine).join("\n")}\n`, {
        httpMetadata: { contentType: "application/x-ndjson" },
        // The (type, customer) range the part holds: an export reads only the parts that may hold
        // its customer (worker/privacy/export.ts).
        customMetadata: {
          first: JSON.stringify([first.type, first.customer_id]),
          last: JSON.stringify([final.type, final.customer_id]),
        },
      });
      options.afterPut?.(key);
      report.objects++;
    }
    await db.batch([
      db
        .prepare("DELETE FROM events WHERE id IN (SELECT value FROM json_each(?1))")
        .bind(JSON.stringify(taken.map((event) => event.id))),
      db
        .prepare(
          `UPDATE archive_days SET cursor_type = ?2, cursor_customer_id = ?3, parts = parts + ?4, events = events + ?5
           WHERE day = ?1 AND parts = ?6`,
        )
        .bind(
          current.day,
          last.type,
          last.customer_id,
          taken.length > 0 ? 1 : 0,
          taken.length,
          current.parts,
        ),
    ]);
    report.events += taken.length;
  }
  return report;
}

/**
 * The day being archived, or the next one to start (sealed and recorded here), or null when every day
 * before `firstKeptDay` is archived.
 */
async function dayInProgress(db: D1Database, firstKeptDay: number, now: number): Promise<DayRow | null> {
  const next = await nextDay(db, firstKeptDay);
  if (next === null || "open" in next) return next?.open ?? null;
  const day = next.start;
  // Seal first, in the batch that records the day: no event dated before the seal is accepted after.
  await db.batch([
    db
      .prepare(
        `INSERT INTO tick_state (key, value, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value), updated_at = excluded.updated_at`,
      )
      .bind(SEAL_KEY, (day + 1) * DAY_MS, now),
    db
      .prepare(
        "INSERT OR IGNORE INTO archive_days (day, status, parts, events, started_at) VALUES (?1, 'archiving', 0, 0, ?2)",
      )
      .bind(day, now),
  ]);
  return { day, cursor_type: null, cursor_customer_id: null, parts: 0 };
}

/** The day being archived (`open`), else the next day to start (`start`), else null. Reads only. */
async function nextDay(
  db: D1Database,
  firstKeptDay: number,
): Promise<{ open: DayRow } | { start: number } | null> {
  const open = await db
    .prepare(
      "SELECT day, cursor_type, cursor_customer_id, parts FROM archive_days WHERE status = 'archiving' ORDER BY day LIMIT 1",
    )
    .first<DayRow>();
  if (open) return { open };
  const next = await db
    .prepare(
      `SELECT min(day) AS day FROM event_days
       WHERE day > coalesce((SELECT max(day) FROM archive_days), -2147483648) AND day < ?1`,
    )
    .bind(firstKeptDay)
    .first<{ day: number | null }>();
  if (next?.day === null || next?.day === undefined) return null;
  return { start: next.day };
}

/**
 * What archiveEvents would work on at `now`, read-only (a dry tick): the day in progress or the
 * next one it would seal and start (ISO date), or why nothing would be archived. Nothing is sealed,
 * written or deleted.
 */
export async function archivePreview(
  db: D1Database,
  hasBucket: boolean,
  options: Pick<ArchiveOptions, "now" | "retentionMs">,
): Promise<{ skipped: ArchiveReport["skipped"]; day: string | null }> {
  if (options.retentionMs === null) return { skipped: "no_retention", day: null };
  if (!hasBucket) return { skipped: "no_bucket", day: null };
  const next = await nextDay(db, dayOf(options.now - options.retentionMs));
  if (next === null) return { skipped: null, day: null };
  return { skipped: null, day: isoDay("open" in next ? next.open.day : next.start) };
}

/** The page's events up to the budget, cut after a whole (type, customer) pair, and that pair. */
function takeWithinBudget(
  events: readonly ArchivedEvent[],
  pairs: readonly { type: string; customer_id: string }[],
  budget: number,
): { taken: ArchivedEvent[]; last: { type: string; customer_id: string } } {
  const counts = new Map<string, number>();
  for (const event of events) {
    const key = JSON.stringify([event.type, event.customer_id]);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let taken = 0;
  let lastIndex = 0;
  for (let i = 0; i < pairs.length; i++) {
    const n = counts.get(JSON.stringify([pairs[i]!.type, pairs[i]!.customer_id])) ?? 0;
    if (i > 0 && taken + n > budget) break;
    taken += n;
    lastIndex = i;
  }
  return { taken: events.slice(0, taken), last: pairs[lastIndex]! };
}
