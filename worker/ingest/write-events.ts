/**
 * Ingest stage 3 of 3 (validate → normalise → write): stores a request's events, folds them into the
 * touched customers' profiles and adds them to the compact daily history, in ONE D1 batch.
 *
 * Cost does not grow with a customer's history: a request reads its events' ids, one profile row per
 * touched customer (the stored fold state, worker/ingest/profile-fold.ts) and one seal row, then
 * writes the new events, the profiles and one `event_days` row per (customer, day, type, currency).
 *
 * Guarantees, and what holds each:
 * - all-or-nothing: the writes are one D1 batch (= one transaction; D1 rejects BEGIN);
 * - idempotent by event id: only events whose id is not stored are folded, and the insert is a plain
 *   INSERT, so an id stored by a concurrent request since the read fails the batch;
 * - concurrency safe: every profile write names the version it was computed from, and a trigger
 *   (migrations/0007) fails the batch when another request wrote the profile in between; the request
 *   then starts again from a fresh read (a few attempts, then 503 `ingest_busy`); likewise when one
 *   of its customers was erased in between, so a racing request cannot bring an erased profile back;
 * - order independent: the fold compares `(occurred_at, id)` with what the state holds;
 * - metrics exact: the MRR movements the touched customers' timelines now make replace, as deltas
 *   to `metric_days` in the same batch, the ones counted before (worker/ingest/movements.ts).
 */

import { customerKey } from "../customer-key";
import { ApiError } from "../errors";
import { localDay, monthOfDay, type ReportingZoneSettings, reportingZone, yearOfDay } from "../metrics/days";
import { type DayRow, dayRows } from "./event-days";
import {
  addToTimeline,
  type MetricDelta,
  movementDeltas,
  movementsOf,
  type TimelineEntry,
  timelineEntry,
  walk,
} from "./movements";
import { type NormalizedEvent, sameEvent } from "./normalize";
import {
  emptyProfileState,
  type FoldEvent,
  foldEvents,
  PROFILE_COLUMNS,
  type ProfileState,
  parseProfileState,
  profileColumns,
  serializeProfileState,
} from "./profile-fold";

/** tick_state key of the archive seal (worker/archive/archive-events.ts): older events are archived. */
export const SEAL_KEY = "events_sealed_before";

/**
 * Events dated before the archive seal: their day's raw events are archived, so a resend could not be
 * recognised. Nothing of the request is written; the route names each refused event.
 */
export class SealedEventsError extends Error {
  constructor(
    readonly ids: readonly string[],
    readonly sealedBefore: number,
  ) {
    super(`${ids.length} events are dated before ${new Date(sealedBefore).toISOString()}, the archived days`);
  }
}

/** What one write did, for the ingest response. */
export interface WriteResult {
  /** Events stored for the first time. */
  accepted: number;
  /** Ids that were already stored (a resend); the stored event is unchanged. */
  duplicateIds: string[];
  /** Of those, ids whose stored event differs from what was sent now (first write wins). */
  conflictingIds: string[];
  /** Ids of events for erased customers: refused and not stored (docs/privacy.md). */
  erasedIds: string[];
  /** D1's own accounting, over every statement the write ran (all attempts). */
  rowsRead: number;
  rowsWritten: number;
}

/**
 * How many times a write is tried when it keeps losing races to concurrent requests for the same
 * customers. Each round of racing requests has a winner, so n concurrent requests all land within n
 * attempts; a short random pause between attempts breaks up requests that would retry in lockstep.
 */
export const WRITE_ATTEMPTS = 16;
const RETRY_PAUSE_MS = 4;

/** The stored events among the request's ids (duplicates and conflicts). */
const SELECT_STORED_SQL = `
SELECT id, customer_id, type, occurred_at, properties FROM events
WHERE id IN (SELECT json_extract(value, '$.id') FROM json_each(?1))`;

const SELECT_PROFILES_SQL = `
SELECT id, profile_state, profile_version FROM customers WHERE id IN (SELECT value FROM json_each(?1))`;

const SELECT_SEAL_SQL = `SELECT value FROM tick_state WHERE key = '${SEAL_KEY}'`;

const SELECT_ERASED_SQL = `
SELECT customer_key FROM erasures WHERE customer_key IN (SELECT value FROM json_each(?1))`;

/**
 * Fails the write batch (a primary-key conflict) when one of its customers was erased since the read,
 * so a request racing an erasure starts again and finds the customer erased instead of bringing the
 * profile back.
 */
const ERASED_SINCE_READ_SQL = `
INSERT INTO erasures (customer_key, erased_at, archive_days)
SELECT customer_key, 0, '[]' FROM erasures WHERE customer_key IN (SELECT value FROM json_each(?1))`;

/** A profile row from before fold state existed: rebuilt once from every stored event. */
const SELECT_HISTORY_SQL = `
SELECT id, customer_id, type, occurred_at, properties FROM events
WHERE customer_id IN (SELECT value FROM json_each(?1))`;

// One bound JSON array instead of one parameter per column: D1 allows 100 bound parameters per statement.
const INSERT_EVENTS_SQL = `
INSERT INTO events (id, customer_id, type, occurred_at, received_at, properties)
SELECT json_extract(value, '$.id'), json_extract(value, '$.customer_id'), json_extract(value, '$.type'),
       json_extract(value, '$.occurred_at'), ?2, json_extract(value, '$.properties')
FROM json_each(?1)`;

const WRITTEN_COLUMNS = ["id", ...PROFILE_COLUMNS, "profile_state", "profile_version"] as const;

const UPSERT_PROFILES_SQL = `
INSERT INTO customers (${WRITTEN_COLUMNS.join(", ")})
SELECT ${WRITTEN_COLUMNS.map((column) => `json_extract(value, '$.${column}')`).join(", ")}
FROM json_each(?1) WHERE true
ON CONFLICT (id) DO UPDATE SET
  ${WRITTEN_COLUMNS.filter((column) => column !== "id")
    .map((column) => `${column} = excluded.${column}`)
    .join(",\n  ")}`;

const UPSERT_DAYS_SQL = `
INSERT INTO event_days (customer_id, day, type, currency, count, amount, latest_at, latest_id, latest)
SELECT json_extract(value, '$.customer_id'), json_extract(value, '$.day'), json_extract(value, '$.type'),
       json_extract(value, '$.currency'), json_extract(value, '$.count'), json_extract(value, '$.amount'),
       json_extract(value, '$.latest_at'), json_extract(value, '$.latest_id'), json_extract(value, '$.latest')
FROM json_each(?1) WHERE true
ON CONFLICT (customer_id, day, type, currency) DO UPDATE SET
  count = count + excluded.count,
  amount = amount + excluded.amount,
  latest = CASE WHEN (excluded.latest_at, excluded.latest_id) > (latest_at, latest_id) THEN excluded.latest ELSE latest END,
  latest_id = CASE WHEN (excluded.latest_at, excluded.latest_id) > (latest_at, latest_id) THEN excluded.latest_id ELSE latest_id END,
  latest_at = CASE WHEN (excluded.latest_at, excluded.latest_id) > (latest_at, latest_id) THEN excluded.latest_at ELSE latest_at END`;

/** Adds a JSON array of `MetricDelta`s to `metric_days` (ingest, legacy upgrades, erasures). */
export const UPSERT_METRICS_SQL = `
INSERT INTO metric_days (metric, grain, period, currency, k1, k2, k3, k4, count, amount)
SELECT value ->> 'metric', value ->> 'grain', value ->> 'period', value ->> 'currency', value ->> 'k1',
       value ->> 'k2', value ->> 'k3', value ->> 'k4', value ->> 'count', value ->> 'amount'
FROM json_each(?1) WHERE true
ON CONFLICT DO UPDATE SET count = count + excluded.count, amount = amount + excluded.amount`;

/**
 * The daily history's rows that rebuild the subscription timeline of a state stored before it
 * existed (profile state version 1): the latest event of each day and type, with its properties.
 */
const SELECT_TIMELINE_HISTORY_SQL = `
SELECT customer_id, type, latest_at, latest_id, latest FROM event_days
WHERE customer_id IN (SELECT value FROM json_each(?1))
  AND type IN ('subscription.started', 'subscription.reactivated', 'subscription.changed', 'subscription.canceled', 'customer.updated')`;

/** Event types that can change a customer's movements: the timeline's, and the currency's sources. */
const MOVING_TYPES = new Set([
  "subscription.started",
  "subscription.reactivated",
  "subscription.changed",
  "subscription.canceled",
  "customer.updated",
  "payment.succeeded",
  "payment.failed",
  "order.completed",
]);

/** Statements bind one JSON array each; arrays are split below D1's 2 MB value limit. */
const MAX_JSON_BYTES = 512 * 1024;

/**
 * Stores `events` (unique ids, already normalised) and updates the profiles they touch.
 *
 * @param receivedAt wall-clock time of the request, stored as `events.received_at`
 * @param zones the rules' reporting zone settings: which local day a movement is counted on
 */
export async function writeEvents(
  db: D1Database,
  events: readonly NormalizedEvent[],
  receivedAt: number,
  zones: ReportingZoneSettings,
): Promise<WriteResult> {
  const result = emptyWriteResult();
  if (events.length === 0) return result;
  const customerIds = [...new Set(events.map((event) => event.customer_id))];
  const keys = new Map(
    await Promise.all(customerIds.map(async (id) => [await customerKey(id), id] as const)),
  );
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptWrite(db, events, receivedAt, zones, customerIds, keys, result);
    } catch (error) {
      if (!lostRace(error)) throw error;
      if (attempt < WRITE_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * RETRY_PAUSE_MS * attempt));
      } else {
        throw new ApiError(
          503,
          "ingest_busy",
          "These customers' profiles kept changing under concurrent requests; nothing was written. Send the request again.",
        );
      }
    }
  }
}

/** True for the ways a batch fails because a concurrent request or erasure wrote first. */
function lostRace(error: unknown): boolean {
  const message = String((error as Error | undefined)?.message ?? error);
  return (
    message.includes("rebound_profile_version_conflict") ||
    message.includes("rebound_event_sealed") ||
    message.includes("UNIQUE constraint failed: erasures.customer_key") ||
    message.includes("UNIQUE constraint failed: events.id")
  );
}

interface ProfileRead {
  id: string;
  profile_state: string | null;
  profile_version: number;
}

async function attemptWrite(
  db: D1Database,
  events: readonly NormalizedEvent[],
  receivedAt: number,
  zones: ReportingZoneSettings,
  customerIds: readonly string[],
  /** Erasure pseudonym → customer id, for the request's customers. */
  keys: ReadonlyMap<string, string>,
  result: WriteResult,
): Promise<WriteResult> {
  const payload = JSON.stringify(events.map((event) => ({ id: event.id })));
  const reads = await db.batch([
    db.prepare(SELECT_STORED_SQL).bind(payload),
    db.prepare(SELECT_PROFILES_SQL).bind(JSON.stringify(customerIds)),
    db.prepare(SELECT_ERASED_SQL).bind(JSON.stringify([...keys.keys()])),
    db.prepare(SELECT_SEAL_SQL),
  ]);
  count(result, reads);
  const [stored, profiles, erased, seal] = reads as [
    D1Result<NormalizedEvent>,
    D1Result<ProfileRead>,
    D1Result<{ customer_key: string }>,
    D1Result<{ value: number }>,
  ];

  const erasedCustomers = new Set(erased.results.map((row) => keys.get(row.customer_key)));
  const storedEvents = new Map(stored.results.map((row) => [row.id, row]));
  result.duplicateIds = [];
  result.conflictingIds = [];
  result.erasedIds = [];
  const fresh: NormalizedEvent[] = [];
  for (const event of events) {
    const previous = storedEvents.get(event.id);
    if (previous) {
      result.duplicateIds.push(event.id);
      if (!sameEvent(previous, event)) result.conflictingIds.push(event.id);
    } else if (erasedCustomers.has(event.customer_id)) {
      result.erasedIds.push(event.id);
    } else {
      fresh.push(event);
    }
  }
  const sealedBefore = seal.results[0]?.value;
  if (sealedBefore !== undefined) {
    const sealed = fresh.filter((event) => event.occurred_at < sealedBefore).map((event) => event.id);
    if (sealed.length > 0) throw new SealedEventsError(sealed, sealedBefore);
  }
  result.accepted = fresh.length;
  if (fresh.length === 0) return result;

  const touched = new Set(fresh.map((event) => event.customer_id));
  const states = await profileStates(db, profiles.results, touched, result);
  const profileRows: Record<string, unknown>[] = [];
  const metrics: MetricDelta[] = [];
  for (const [customerId, newEvents] of groupBy(fresh, (event) => event.customer_id)) {
    const read = states.get(customerId);
    const state = foldEvents(read?.state ?? emptyProfileState(), newEvents);
    const columns = profileColumns(state);
    if (newEvents.some((event) => MOVING_TYPES.has(event.type))) {
      metrics.push(...recount(state, columns, zones, sealedBefore));
    }
    profileRows.push({
      id: customerId,
      ...columns,
      profile_state: serializeProfileState(state),
      profile_version: (read?.version ?? 0) + 1,
    });
  }
  const days: DayRow[] = dayRows(fresh);
  const writes = await db.batch([
    db.prepare(ERASED_SINCE_READ_SQL).bind(JSON.stringify([...keys.keys()])),
    ...chunks(fresh).map((chunk) => db.prepare(INSERT_EVENTS_SQL).bind(JSON.stringify(chunk), receivedAt)),
    ...chunks(profileRows).map((chunk) => db.prepare(UPSERT_PROFILES_SQL).bind(JSON.stringify(chunk))),
    ...chunks(days).map((chunk) => db.prepare(UPSERT_DAYS_SQL).bind(JSON.stringify(chunk))),
    ...chunks(metrics).map((chunk) => db.prepare(UPSERT_METRICS_SQL).bind(JSON.stringify(chunk))),
  ]);
  count(result, writes);
  return result;
}

/** A timeline longer than this sheds its entries dated before the archive seal into a checkpoint. */
export const TIMELINE_COMPACT_AT = 32;

/**
 * The customer's movements as its timeline now stands, counted in its reporting zone, and the
 * `metric_days` deltas from what was counted before; the state then records them as counted.
 *
 * So that a customer whose app re-sends its plan or currency every night does not carry an ever
 * longer timeline through every ingest, a timeline past TIMELINE_COMPACT_AT entries folds those
 * dated before the archive seal (`sealedBefore`) into the checkpoint: no event can arrive before
 * the seal (ingest refuses it), so neither they nor the movements they made can change again. The
 * movements stay in `counted` (an erasure takes them back), as `frozen`.
 */
function recount(
  state: ProfileState,
  columns: ReturnType<typeof profileColumns>,
  zones: ReportingZoneSettings,
  sealedBefore?: number,
): MetricDelta[] {
  if (state.timeline === null) return [];
  const zone = reportingZone(zones, columns.timezone);
  const currency = typeof columns.currency === "string" ? columns.currency : "";
  const dayOf = (at: number) => localDay(at, zone);
  const from = state.checkpoint ?? undefined;
  const current = [
    ...state.counted.slice(0, state.frozen),
    ...movementsOf(state.timeline, currency, dayOf, from),
  ];
  const deltas = movementDeltas(state.counted, current, monthOfDay, yearOfDay);
  state.counted = current;
  if (sealedBefore !== undefined && state.timeline.length > TIMELINE_COMPACT_AT) {
    const sealed = state.timeline.filter((entry) => entry[0] < sealedBefore);
    if (sealed.length > 0) {
      const { movements, end } = walk(sealed, currency, dayOf, from);
      state.frozen += movements.length;
      state.checkpoint = end;
      state.timeline = state.timeline.slice(sealed.length);
    }
  }
  return deltas;
}

/**
 * The fold state of each customer with new events, and the profile version it was read at. A row
 * without a readable state (written before it existed) is rebuilt from the customer's stored events.
 */
async function profileStates(
  db: D1Database,
  rows: readonly ProfileRead[],
  touched: ReadonlySet<string>,
  result: WriteResult,
): Promise<Map<string, { state: ProfileState; version: number }>> {
  const states = new Map<string, { state: ProfileState; version: number }>();
  const rebuild: ProfileRead[] = [];
  for (const row of rows) {
    if (!touched.has(row.id)) continue;
    const state = parseProfileState(row.profile_state);
    if (state) states.set(row.id, { state, version: row.profile_version });
    else rebuild.push(row);
  }
  const untimed = [...states].filter(([, { state }]) => state.timeline === null).map(([id]) => id);
  if (untimed.length > 0) {
    const history = await db.prepare(SELECT_TIMELINE_HISTORY_SQL).bind(JSON.stringify(untimed)).all<{
      customer_id: string;
      type: string;
      latest_at: number;
      latest_id: string;
      latest: string | null;
    }>();
    count(result, [history]);
    const byCustomer = groupBy(history.results, (row) => row.customer_id);
    for (const id of untimed) {
      const entries = (byCustomer.get(id) ?? [])
        .map((row) =>
          timelineEntry({
            id: row.latest_id,
            type: row.type,
            occurred_at: row.latest_at,
            properties: row.latest ?? "{}",
          }),
        )
        .filter((entry): entry is TimelineEntry => entry !== null);
      const state = states.get(id)!.state;
      state.timeline = [];
      addToTimeline(state.timeline, [...entries, ...slotEntries(state, entries)]);
    }
  }
  if (rebuild.length > 0) {
    const history = await db
      .prepare(SELECT_HISTORY_SQL)
      .bind(JSON.stringify(rebuild.map((row) => row.id)))
      .all<FoldEvent & { customer_id: string }>();
    count(result, [history]);
    const byCustomer = groupBy(history.results, (event) => event.customer_id);
    for (const row of rebuild) {
      const state = foldEvents(emptyProfileState(), byCustomer.get(row.id) ?? []);
      states.set(row.id, { state, version: row.profile_version });
    }
  }
  return states;
}

/**
 * The latest-wins values the profile state holds that a timeline rebuilt from the daily history may
 * have lost (it keeps one event per day and type): each as an entry at the `(occurred_at, id)` of the
 * event that set it, unless that event is already there. So the rebuilt timeline ends where the
 * profile stands: paying or not, with its MRR, plan and currency.
 */
function slotEntries(state: ProfileState, present: readonly TimelineEntry[]): TimelineEntry[] {
  const ids = new Set(present.map((entry) => entry[1]));
  const { slots } = state;
  const out: TimelineEntry[] = [];
  const add = (
    slot: readonly [number, string, unknown] | undefined,
    kind: TimelineEntry[2],
    fields: TimelineEntry[3],
  ) => {
    if (slot && !ids.has(slot[1])) out.push([slot[0], slot[1], kind, fields]);
  };
  add(slots.start, "s", {});
  add(slots.cancel, "x", { reason: slots.cancel?.[2].reason ?? null });
  add(slots.mrr, "u", { mrr: slots.mrr?.[2] ?? null });
  add(slots.plan, "u", { plan: slots.plan?.[2] ?? null });
  add(slots.currency, "u", { currency: slots.currency?.[2] ?? null });
  return out;
}

const SELECT_LEGACY_SQL = `
SELECT id, profile_state, profile_version FROM customers
WHERE id IN (SELECT value FROM json_each(?1))
  AND (profile_state IS NULL OR json_extract(profile_state, '$.v') = 1)`;

/**
 * Brings the profiles among `customerIds` that predate the current fold state up to date and counts
 * their movements: a profile from before migration 0007 (no state) is folded from its stored events,
 * one from before 0008 (state version 1) gains its subscription timeline from the daily history.
 * The archiver calls it before moving a customer's events out of D1 (a profile rebuilt after that
 * would miss them), and the tick walks every customer through it once after the upgrade
 * (worker/tick/legacy-profiles.ts), so a customer with no new event is counted too.
 *
 * @param onRace what a concurrent ingest winning the race does: `throw` (the archiver must not move
 *   events of a profile it could not upgrade) or `skip` (upgrade nothing now; the caller comes back)
 * @returns how many profiles it upgraded
 */
export async function upgradeLegacyProfiles(
  db: D1Database,
  customerIds: readonly string[],
  zones: ReportingZoneSettings,
  onRace: "throw" | "skip",
): Promise<number> {
  if (customerIds.length === 0) return 0;
  const legacy = await db.prepare(SELECT_LEGACY_SQL).bind(JSON.stringify(customerIds)).all<ProfileRead>();
  if (legacy.results.length === 0) return 0;
  const unused = emptyWriteResult();
  const states = await profileStates(db, legacy.results, new Set(customerIds), unused);
  const metrics: MetricDelta[] = [];
  const rows = [...states].map(([id, { state, version }]) => {
    const columns = profileColumns(state);
    metrics.push(...recount(state, columns, zones));
    return { id, ...columns, profile_state: serializeProfileState(state), profile_version: version + 1 };
  });
  // The version guard fails this batch if ingest wrote a profile meanwhile; the caller retries later.
  try {
    await db.batch([
      ...chunks(rows).map((chunk) => db.prepare(UPSERT_PROFILES_SQL).bind(JSON.stringify(chunk))),
      ...chunks(metrics).map((chunk) => db.prepare(UPSERT_METRICS_SQL).bind(JSON.stringify(chunk))),
    ]);
  } catch (error) {
    if (onRace === "skip" && lostRace(error)) return 0;
    throw error;
  }
  return rows.length;
}

function emptyWriteResult(): WriteResult {
  return { accepted: 0, duplicateIds: [], conflictingIds: [], erasedIds: [], rowsRead: 0, rowsWritten: 0 };
}

function count(result: WriteResult, results: readonly (D1Result | undefined)[]): void {
  for (const r of results) {
    result.rowsRead += r?.meta.rows_read ?? 0;
    result.rowsWritten += r?.meta.rows_written ?? 0;
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

/** Splits rows into arrays whose JSON stays under MAX_JSON_BYTES (one row always fits alone). */
function chunks<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = JSON.stringify(row).length;
    if (current.length > 0 && bytes + size > MAX_JSON_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
