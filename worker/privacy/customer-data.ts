/**
 * A customer's data on request (docs/privacy.md): `exportCustomer` gathers everything Rebound holds
 * about one customer into one JSON document, archived days included; `eraseCustomer` deletes all of
 * it, the archive included, and leaves only a SHA-256 pseudonym of the id (`erasures`), which is what
 * keeps the customer erased: ingest refuses events for the id (a resent old event is reported as
 * `erased`, never stored), and decisions record nothing for it. With no profile, no event and no
 * decision, no audience, programme or send can reach the customer again; the sends already made are
 * deleted with the rest (their rows held the recipient and the message variables).
 *
 * The archive rewrite is bounded per call: days left are recorded on the erasure and finished by the
 * next calls or ticks (`continueErasures`), which match lines by the pseudonym since the id is gone.
 */
import { isoDay } from "../archive/archive-events";
import { customerKey } from "../customer-key";
import { DAY_MS } from "../ingest/event-days";
import { movementDeltas } from "../ingest/movements";
import { compareIds, parseProfileState } from "../ingest/profile-fold";
import { SEAL_KEY, UPSERT_METRICS_SQL } from "../ingest/write-events";
import { localDay, monthOfDay, type ReportingZoneSettings, reportingZone, yearOfDay } from "../metrics/days";

/** Tables with a `customer_id` column, all of which hold the customer's data. */
const CUSTOMER_TABLES = [
  "events",
  "event_days",
  "decisions",
  "redemptions",
  "sends",
  "outbox",
  "dunning_cases",
  "campaign_exclusions",
  // Billing-provider deliveries held for replay (worker/providers/held.ts): the raw payload.
  "provider_held_events",
] as const;

/**
 * The order an erasure deletes them in: a redemption references its decision (a foreign key D1
 * enforces), so redemptions go first.
 */
const ERASE_ORDER = [
  "redemptions",
  ...CUSTOMER_TABLES.filter((table) => table !== "redemptions"),
] as const satisfies readonly (typeof CUSTOMER_TABLES)[number][];

export const PRIVACY_LIMITS = Object.freeze({
  /** Archive objects one erase call or tick rewrites before leaving the rest for the next. */
  maxObjectsPerCall: 200,
});

interface ArchivedLine {
  id: string;
  customer_id: string;
  type: string;
  occurred_at: string;
  received_at: string;
  properties: unknown;
}

async function sealDay(db: D1Database): Promise<number> {
  const seal = await db
    .prepare(`SELECT value FROM tick_state WHERE key = '${SEAL_KEY}'`)
    .first<{ value: number }>();
  return seal ? Math.floor(seal.value / DAY_MS) : Number.NEGATIVE_INFINITY;
}

/** The customer's days that may have raw events in R2, with the event types of each. */
async function archivedDays(db: D1Database, customerId: string): Promise<Map<number, Set<string>>> {
  const before = await sealDay(db);
  const rows = await db
    .prepare("SELECT DISTINCT day, type FROM event_days WHERE customer_id = ? AND day < ? ORDER BY day")
    .bind(customerId, Number.isFinite(before) ? before : -2147483648)
    .all<{ day: number; type: string }>();
  const days = new Map<number, Set<string>>();
  for (const row of rows.results) {
    const types = days.get(row.day) ?? new Set();
    types.add(row.type);
    days.set(row.day, types);
  }
  return days;
}

async function* dayObjects(bucket: R2Bucket, day: number): AsyncGenerator<R2Object> {
  let cursor: string | undefined;
  do {
    // `include` (honoured since compatibility date 2022-08-04) is missing from these types.
    const options = {
      prefix: `events/day=${isoDay(day)}/`,
      include: ["customMetadata"],
      ...(cursor ? { cursor } : {}),
    };
    const listing = await bucket.list(options as R2ListOptions);
    yield* listing.objects;
    cursor = listing.truncated ? listing.cursor : undefined;
  } while (cursor);
}

/** True when a part whose (type, customer) range is [first, last] may hold `pair`. */
function mayHold(object: R2Object, pair: readonly [string, string]): boolean {
  const first = object.customMetadata?.first;
  const last = object.customMetadata?.last;
  if (!first || !last) return true;
  const [a, b] = [JSON.parse(first) as [string, string], JSON.parse(last) as [string, string]];
  // In SQLite's order (code points), which is the order the archiver wrote the parts in.
  const compare = (x: [string, string], y: readonly [string, string]) =>
    compareIds(x[0], y[0]) || compareIds(x[1], y[1]);
  return compare(a, pair) <= 0 && compare(b, pair) >= 0;
}

function linesOf(text: string): string[] {
  return text.split("\n").filter((line) => line.length > 0);
}

export interface CustomerExport {
  customer_id: string;
  exported_at: string;
  profile: Record<string, unknown> | null;
  /** Raw events still in D1, then archived ones (`archived: true`), oldest first. */
  events: Record<string, unknown>[];
  daily_history: Record<string, unknown>[];
  decisions: Record<string, unknown>[];
  redemptions: Record<string, unknown>[];
  sends: Record<string, unknown>[];
  outbox: Record<string, unknown>[];
  dunning_cases: Record<string, unknown>[];
  campaign_exclusions: Record<string, unknown>[];
  /** Billing-provider deliveries held for replay, each with the provider's payload as sent. */
  provider_held_events: Record<string, unknown>[];
  /** Erased on request: when, or null. An erased customer's export is otherwise empty. */
  erased_at: string | null;
}

export async function exportCustomer(
  db: D1Database,
  bucket: R2Bucket | undefined,
  customerId: string,
  now: number,
): Promise<CustomerExport> {
  const reads = await db.batch([
    db.prepare("SELECT * FROM customers WHERE id = ?").bind(customerId),
    ...CUSTOMER_TABLES.map((table) =>
      db.prepare(`SELECT * FROM ${table} WHERE customer_id = ? ORDER BY 1, 2`).bind(customerId),
    ),
    db.prepare("SELECT erased_at FROM erasures WHERE customer_key = ?").bind(await customerKey(customerId)),
  ]);
  const [profileRows, events, days, decisions, redemptions, sends, outbox, cases, exclusions, held, erased] =
    reads.map((result) => result.results as Record<string, unknown>[]);
  const profile = profileRows![0] ?? null;
  if (profile) {
    profile.attributes = JSON.parse(String(profile.attributes));
    delete profile.profile_state;
    delete profile.profile_version;
  }
  const iso = (ms: unknown) => (typeof ms === "number" ? new Date(ms).toISOString() : ms);
  const exportedEvents: Record<string, unknown>[] = events!.map((event) => ({
    id: event.id,
    type: event.type,
    occurred_at: iso(event.occurred_at),
    received_at: iso(event.received_at),
    properties: JSON.parse(String(event.properties)),
    archived: false,
  }));
  if (bucket) {
    for (const [day, types] of await archivedDays(db, customerId)) {
      for await (const object of dayObjects(bucket, day)) {
        if (![...types].some((type) => mayHold(object, [type, customerId]))) continue;
        const body = await bucket.get(object.key);
        if (!body) continue;
        for (const line of linesOf(await body.text())) {
          const event = JSON.parse(line) as ArchivedLine;
          if (event.customer_id !== customerId) continue;
          exportedEvents.push({
            id: event.id,
            type: event.type,
            occurred_at: event.occurred_at,
            received_at: event.received_at,
            properties: event.properties,
            archived: true,
          });
        }
      }
    }
  }
  exportedEvents.sort(
    (a, b) =>
      String(a.occurred_at).localeCompare(String(b.occurred_at)) || String(a.id).localeCompare(String(b.id)),
  );
  return {
    customer_id: customerId,
    exported_at: new Date(now).toISOString(),
    profile,
    events: exportedEvents,
    daily_history: days!.map(({ customer_id: _, day, ...row }) => ({ day: isoDay(Number(day)), ...row })),
    decisions: decisions!,
    redemptions: redemptions!,
    sends: sends!,
    outbox: outbox!,
    dunning_cases: cases!,
    campaign_exclusions: exclusions!,
    provider_held_events: held!.map((row) => ({
      ...row,
      details: JSON.parse(String(row.details)),
      payload: JSON.parse(String(row.payload)),
      received_at: iso(row.received_at),
      last_attempt_at: iso(row.last_attempt_at),
    })),
    erased_at: erased![0] ? String(iso(erased![0].erased_at)) : null,
  };
}

export interface ErasureReport {
  /** The pseudonym kept (SHA-256 of the id). */
  customer_key: string;
  erased_at: string;
  /** `erased` once nothing is left anywhere; `archive_pending` while archived days remain to rewrite. */
  status: "erased" | "archive_pending";
  /** Rows deleted from D1 by this call, by table. */
  deleted: Record<string, number>;
  archive_objects_rewritten: number;
  archive_days_remaining: number;
}

/** Erasures racing ingest for the same customer: each round has a winner, as in write-events.ts. */
const ERASE_ATTEMPTS = 8;

/**
 * Erases one customer: idempotent (a repeat deletes nothing more and continues any archive rewrite
 * left), bounded (at most PRIVACY_LIMITS.maxObjectsPerCall archive objects per call).
 *
 * The customer also leaves the metrics, in the same batch: the MRR movements counted for them are
 * taken back from `metric_days` (as if they had never paid, so every report's identities still hold:
 * the stock equals the customers table, movements add up to its change), and an open dunning case
 * closes on the erasure day in the open-case stock. Counts with no customer behind them (offers
 * shown, cases opened) stay: they say nothing about anyone.
 */
export async function eraseCustomer(
  db: D1Database,
  bucket: R2Bucket | undefined,
  customerId: string,
  now: number,
  zones: ReportingZoneSettings,
): Promise<ErasureReport> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await attemptErasure(db, bucket, customerId, now, zones);
    } catch (error) {
      const raced = String((error as Error | undefined)?.message ?? error).includes(
        "rebound_profile_version_conflict",
      );
      if (!raced || attempt >= ERASE_ATTEMPTS) throw error;
    }
  }
}

async function attemptErasure(
  db: D1Database,
  bucket: R2Bucket | undefined,
  customerId: string,
  now: number,
  zones: ReportingZoneSettings,
): Promise<ErasureReport> {
  const key = await customerKey(customerId);
  const days = [...(await archivedDays(db, customerId)).keys()];
  const existing = await db
    .prepare("SELECT erased_at, archive_days FROM erasures WHERE customer_key = ?")
    .bind(key)
    .first<{ erased_at: number; archive_days: string }>();
  const pending = [
    ...new Set([...(existing ? (JSON.parse(existing.archive_days) as number[]) : []), ...days]),
  ].sort((a, b) => a - b);
  const erasedAt = existing?.erased_at ?? now;
  const [profileRead, casesRead] = await db.batch([
    db
      .prepare("SELECT profile_state, profile_version, timezone FROM customers WHERE id = ?1")
      .bind(customerId),
    db
      .prepare(
        "SELECT currency, decline_code, mrr_at_risk FROM dunning_cases WHERE customer_id = ?1 AND status = 'open' AND opened_day IS NOT NULL",
      )
      .bind(customerId),
  ]);
  const profile = profileRead!.results[0] as
    | { profile_state: string | null; profile_version: number; timezone: string | null }
    | undefined;
  const state = parseProfileState(profile?.profile_state ?? null);
  const deltas = state ? movementDeltas(state.counted, [], monthOfDay, yearOfDay) : [];
  const day = localDay(now, reportingZone(zones, profile?.timezone));
  for (const open of casesRead!.results as {
    currency: string | null;
    decline_code: string | null;
    mrr_at_risk: number | null;
  }[]) {
    for (const [grain, period] of [
      ["d", day],
      ["m", monthOfDay(day)],
      ["y", yearOfDay(day)],
    ] as const) {
      deltas.push({
        metric: "dunning.open",
        grain,
        period,
        currency: open.currency ?? "",
        k1: "",
        k2: open.decline_code ?? "",
        k3: "",
        k4: "",
        count: -1,
        amount: -(open.mrr_at_risk ?? 0),
      });
    }
  }
  const results = await db.batch([
    // Fails the batch (the trigger of migration 0007) if ingest wrote the profile since the read
    // above: the movements taken back must be the ones counted. The erasure then starts again.
    ...(profile
      ? [
          db
            .prepare("UPDATE customers SET profile_version = ?2 WHERE id = ?1")
            .bind(customerId, profile.profile_version + 1),
        ]
      : []),
    db
      .prepare(
        `INSERT INTO erasures (customer_key, erased_at, archive_days, completed_at) VALUES (?1, ?2, ?3, NULL)
         ON CONFLICT (customer_key) DO UPDATE SET archive_days = excluded.archive_days`,
      )
      .bind(key, erasedAt, JSON.stringify(pending)),
    db.prepare("DELETE FROM customers WHERE id = ?").bind(customerId),
    ...ERASE_ORDER.map((table) => db.prepare(`DELETE FROM ${table} WHERE customer_id = ?`).bind(customerId)),
    ...(deltas.length > 0 ? [db.prepare(UPSERT_METRICS_SQL).bind(JSON.stringify(deltas))] : []),
  ]);
  const offset = profile ? 2 : 1;
  const changes = new Map(
    ["customers", ...ERASE_ORDER].map((table, i) => [table, results[i + offset]?.meta.changes ?? 0]),
  );
  // Reported in table order, whatever order they were deleted in.
  const deleted: Record<string, number> = {};
  for (const table of ["customers", ...CUSTOMER_TABLES]) deleted[table] = changes.get(table) ?? 0;
  const progress = await rewriteArchive(
    db,
    bucket,
    key,
    pending,
    async (line) => line.customer_id === customerId,
    now,
  );
  return {
    customer_key: key,
    erased_at: new Date(erasedAt).toISOString(),
    status: progress.remaining === 0 ? "erased" : "archive_pending",
    deleted,
    archive_objects_rewritten: progress.rewritten,
    archive_days_remaining: progress.remaining,
  };
}

/**
 * Rewrites the archived days of one erasure without the customer's lines, oldest first, within the
 * per-call bound; records what is left. A day still being archived waits until it is done (the
 * archiver may still write a page that was read before the erase).
 */
async function rewriteArchive(
  db: D1Database,
  bucket: R2Bucket | undefined,
  key: string,
  days: readonly number[],
  matches: (line: ArchivedLine) => Promise<boolean>,
  now: number,
): Promise<{ rewritten: number; remaining: number }> {
  if (!bucket || days.length === 0) {
    if (days.length === 0) {
      await db
        .prepare("UPDATE erasures SET completed_at = coalesce(completed_at, ?2) WHERE customer_key = ?1")
        .bind(key, now)
        .run();
    }
    return { rewritten: 0, remaining: days.length };
  }
  const archiving = new Set(
    (
      await db.prepare("SELECT day FROM archive_days WHERE status = 'archiving'").all<{ day: number }>()
    ).results.map((row) => row.day),
  );
  let rewritten = 0;
  const left: number[] = [];
  for (const day of days) {
    if (archiving.has(day) || rewritten >= PRIVACY_LIMITS.maxObjectsPerCall) {
      left.push(day);
      continue;
    }
    let finished = true;
    for await (const object of dayObjects(bucket, day)) {
      if (rewritten >= PRIVACY_LIMITS.maxObjectsPerCall) {
        finished = false;
        break;
      }
      const body = await bucket.get(object.key);
      if (!body) continue;
      const lines = linesOf(await body.text());
      const kept: string[] = [];
      for (const line of lines) if (!(await matches(JSON.parse(line) as ArchivedLine))) kept.push(line);
      if (kept.length === lines.length) continue;
      if (kept.length === 0) await bucket.delete(object.key);
      else {
        await bucket.put(object.key, `${kept.join("\n")}\n`, {
          httpMetadata: { contentType: "application/x-ndjson" },
          ...(object.customMetadata ? { customMetadata: object.customMetadata } : {}),
        });
      }
      rewritten++;
    }
    if (!finished) left.push(day);
  }
  await db
    .prepare(
      "UPDATE erasures SET archive_days = ?2, completed_at = CASE WHEN ?3 = 0 THEN coalesce(completed_at, ?4) END WHERE customer_key = ?1",
    )
    .bind(key, JSON.stringify(left), left.length, now)
    .run();
  return { rewritten, remaining: left.length };
}

/** Open erasures `continueErasures` takes up per call. */
const ERASURES_PER_CALL = 20;

/**
 * How many erasures `continueErasures` would work on (a dry tick reports it and rewrites nothing).
 */
export async function erasuresToContinue(db: D1Database, bucket: R2Bucket | undefined): Promise<number> {
  if (!bucket) return 0;
  const row = await db
    .prepare(
      `SELECT count(*) AS n FROM (SELECT 1 FROM erasures WHERE completed_at IS NULL LIMIT ${ERASURES_PER_CALL})`,
    )
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The tick's share: continues erasures with archived days left, matching lines by the pseudonym. */
export async function continueErasures(
  db: D1Database,
  bucket: R2Bucket | undefined,
  now: number,
): Promise<number> {
  if (!bucket) return 0;
  const open = await db
    .prepare(
      `SELECT customer_key, archive_days FROM erasures WHERE completed_at IS NULL LIMIT ${ERASURES_PER_CALL}`,
    )
    .all<{ customer_key: string; archive_days: string }>();
  let rewritten = 0;
  for (const erasure of open.results) {
    const progress = await rewriteArchive(
      db,
      bucket,
      erasure.customer_key,
      JSON.parse(erasure.archive_days) as number[],
      async (line) => (await customerKey(line.customer_id)) === erasure.customer_key,
      now,
    );
    rewritten += progress.rewritten;
  }
  return rewritten;
}
