/**
 * Ingest stage 3 of 3 (validate → normalise → write): stores a request's events and rewrites the
 * touched customers' profiles in ONE D1 batch.
 *
 * D1 rejects BEGIN; a batch() is the transaction, so the request is all-or-nothing: either every new
 * event is stored and every touched profile reflects it, or nothing is written.
 */

import { type NormalizedEvent, sameEvent } from "./normalize";
import { RECOMPUTE_PROFILES_SQL } from "./profile-sql";

/** What one write did, for the ingest response. */
export interface WriteResult {
  /** Events stored for the first time. */
  accepted: number;
  /** Ids that were already stored (a resend); the stored event is unchanged. */
  duplicateIds: string[];
  /** Of those, ids whose stored event differs from what was sent now (first write wins). */
  conflictingIds: string[];
  /** D1's own accounting for the whole batch. */
  rowsRead: number;
  rowsWritten: number;
}

const SELECT_STORED_SQL = `
SELECT id, customer_id, type, occurred_at, properties FROM events
WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`;

// One bound JSON array instead of one parameter per column: D1 allows 100 bound parameters per statement.
const INSERT_EVENTS_SQL = `
INSERT OR IGNORE INTO events (id, customer_id, type, occurred_at, received_at, properties)
SELECT json_extract(value, '$.id'), json_extract(value, '$.customer_id'), json_extract(value, '$.type'),
       json_extract(value, '$.occurred_at'), ?2, json_extract(value, '$.properties')
FROM json_each(?1)`;

/**
 * Stores `events` (unique ids, already normalised) and updates the profiles they touch.
 *
 * @param receivedAt wall-clock time of the request, stored as `events.received_at`
 */
export async function writeEvents(
  db: D1Database,
  events: readonly NormalizedEvent[],
  receivedAt: number,
): Promise<WriteResult> {
  if (events.length === 0) {
    return { accepted: 0, duplicateIds: [], conflictingIds: [], rowsRead: 0, rowsWritten: 0 };
  }
  const payload = JSON.stringify(events);
  const [stored, ...writes] = await db.batch([
    db.prepare(SELECT_STORED_SQL).bind(payload),
    db.prepare(INSERT_EVENTS_SQL).bind(payload, receivedAt),
    db.prepare(RECOMPUTE_PROFILES_SQL).bind(payload, receivedAt),
  ]);
  const storedEvents = new Map(
    (stored?.results as NormalizedEvent[] | undefined)?.map((row) => [row.id, row]),
  );
  const duplicateIds: string[] = [];
  const conflictingIds: string[] = [];
  for (const event of events) {
    const previous = storedEvents.get(event.id);
    if (!previous) continue;
    duplicateIds.push(event.id);
    if (!sameEvent(previous, event)) conflictingIds.push(event.id);
  }
  const all = [stored, ...writes];
  return {
    accepted: events.length - duplicateIds.length,
    duplicateIds,
    conflictingIds,
    rowsRead: all.reduce((sum, result) => sum + (result?.meta.rows_read ?? 0), 0),
    rowsWritten: all.reduce((sum, result) => sum + (result?.meta.rows_written ?? 0), 0),
  };
}
