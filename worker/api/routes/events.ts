/**
 * `POST /v1/events`: event ingest, one event or `{"events": [...]}`. Ingest stage 1 of 3
 * (validate → normalise → write): the body is checked against the build-time compiled JSON Schemas,
 * then handed to worker/ingest/.
 *
 * A request is all-or-nothing: any invalid item rejects the whole request with every problem listed,
 * and the write is one D1 batch (= one transaction).
 *
 * On a sharded deployment (worker/db/shards.ts) the events are written on their customers' shards,
 * all-or-nothing per shard (worker/ingest/write-by-shard.ts). A request whose events all live on one
 * shard answers exactly as with one database. One that spans shards answers 200 only when every
 * shard stored its part; otherwise it says what was stored and what was not (`partlyStored` below,
 * docs/api.md "Sharded deployments"), and sending it again stores the rest exactly once.
 */

import type { Context } from "hono";
import type { Ruleset } from "../../../dsl";
import { wallClock } from "../../clock";
import { ApiError, type ErrorDetail, validationFailed } from "../../errors";
import { validateEvent, validateEventBatch } from "../../generated/validators.js";
import { propertiesProblems } from "../../ingest/check-properties";
import {
  type IncomingEvent,
  type IncomingItem,
  normalizeEvents,
  normalizeOptions,
  OCCURRED_AT_MESSAGE,
} from "../../ingest/normalize";
import { type ShardPart, writeEventsByShard } from "../../ingest/write-by-shard";
import { SealedEventsError, type WriteResult } from "../../ingest/write-events";
import { REQUEST_LIMITS } from "../../limits";
import { parseInstant } from "../../timestamps";
import type { AppEnv, RouteDef } from "../app-env";
import { postEventsDoc } from "../docs/events";
import { readJsonBody } from "../json-body";
import { schemaProblems } from "../validation";

async function postEvents(c: Context<AppEnv>): Promise<Response> {
  const body = await readJsonBody(c.req.raw, REQUEST_LIMITS.maxBodyBytes);
  const { items, details } = checkEventsBody(body);
  const normalized = normalizeEvents(items, normalizeOptions(c.get("ruleset")));
  details.push(...normalized.details);
  if (details.length > 0) throw validationFailed(details.sort(byItem));

  const ruleset = c.get("ruleset");
  const parts = await writeEventsByShard(c.env, normalized.events, wallClock(), ruleset);
  const failed = parts.filter((part): part is FailedPart => !part.stored);
  // One part (one database, or every customer on one shard): its failure is the request's, as always.
  if (parts.length === 1 && failed[0]) throw requestError(failed[0].error, items, ruleset);
  const stored = storedSummary(parts, normalized.events, normalized.duplicateIdsInRequest);
  if (failed.length > 0) return partlyStored(c, stored, failed, items, ruleset);
  return c.json({
    accepted: stored.accepted,
    duplicates: stored.duplicate_ids.length,
    duplicate_ids: stored.duplicate_ids,
    // Ids already stored with other content: the stored event wins and is left unchanged.
    conflicting_ids: stored.conflicting_ids,
    // Events for customers erased on request: refused and not stored (docs/privacy.md).
    erased: stored.erased_ids.length,
    erased_ids: stored.erased_ids,
    meta: stored.meta,
  });
}

/** What the stored parts of a request did, merged in the request's order. */
interface StoredSummary {
  accepted: number;
  duplicate_ids: string[];
  conflicting_ids: string[];
  erased_ids: string[];
  meta: { rows_read: number; rows_written: number };
}

/**
 * Merges the stored parts' results. Ids come in the order of the request's events (with one part,
 * the order `writeEvents` gives), after the ids sent twice in the request whose event was stored.
 */
function storedSummary(
  parts: readonly ShardPart[],
  events: readonly { id: string }[],
  duplicateIdsInRequest: readonly string[],
): StoredSummary {
  const position = new Map(events.map((event, index) => [event.id, index]));
  const inRequestOrder = (ids: string[]) =>
    ids.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
  const storedIds = new Set<string>();
  const results: WriteResult[] = [];
  for (const part of parts) {
    if (!part.stored) continue;
    results.push(part.result);
    for (const event of part.events) storedIds.add(event.id);
  }
  return {
    accepted: results.reduce((sum, result) => sum + result.accepted, 0),
    duplicate_ids: [
      ...duplicateIdsInRequest.filter((id) => storedIds.has(id)),
      ...inRequestOrder(results.flatMap((result) => result.duplicateIds)),
    ],
    conflicting_ids: inRequestOrder(results.flatMap((result) => result.conflictingIds)),
    erased_ids: inRequestOrder(results.flatMap((result) => result.erasedIds)),
    meta: {
      rows_read: results.reduce((sum, result) => sum + result.rowsRead, 0),
      rows_written: results.reduce((sum, result) => sum + result.rowsWritten, 0),
    },
  };
}

type FailedPart = Extract<ShardPart, { stored: false }>;

/** The error a failed part answers with, as a one-database request would (sealed: a 400 per event). */
function requestError(error: unknown, items: readonly IncomingItem[], ruleset: Ruleset): unknown {
  return error instanceof SealedEventsError ? validationFailed(sealedDetails(error, items, ruleset)) : error;
}

/**
 * The answer to a request that spans shards when some shard stored nothing of its part: no status
 * of success, since some events were not stored. Every event a sealed day refused gets its
 * `validation_failed` detail, as with one database (400 when that is the only failure: drop those
 * events and send the rest again); any other failure is a 503 `events_not_all_stored` with one
 * detail per event not stored. Both carry what the other shards stored (`stored`, the 200's counts)
 * and `not_stored_ids`; sending the whole request again stores the rest, the stored events coming
 * back as duplicates.
 */
function partlyStored(
  c: Context<AppEnv>,
  stored: StoredSummary,
  failed: readonly FailedPart[],
  items: readonly IncomingItem[],
  ruleset: Ruleset,
): Response {
  const itemOf = new Map(items.map((item) => [item.event.id, item]));
  const details: ErrorDetail[] = [];
  let onlySealed = true;
  for (const part of failed) {
    const error = requestError(part.error, items, ruleset);
    if (error instanceof ApiError && error.code === "validation_failed") {
      details.push(...error.details);
      continue;
    }
    onlySealed = false;
    const reason = failureReason(c, error);
    for (const event of part.events) {
      details.push({ path: itemOf.get(event.id)?.at ?? "", message: `not stored: ${reason}` });
    }
  }
  const notStoredIds = failed.flatMap((part) => part.events.map((event) => event.id));
  const code = onlySealed ? "validation_failed" : "events_not_all_stored";
  const message = onlySealed
    ? validationFailed(details).message
    : `${notStoredIds.length} events were not stored (their customers' database failed); the others were. Send the request again: stored events count as duplicates.`;
  return c.json(
    {
      error: { code, message, details: details.sort(byItem) },
      stored: {
        accepted: stored.accepted,
        duplicates: stored.duplicate_ids.length,
        duplicate_ids: stored.duplicate_ids,
        conflicting_ids: stored.conflicting_ids,
        erased: stored.erased_ids.length,
        erased_ids: stored.erased_ids,
      },
      not_stored_ids: notStoredIds,
      meta: stored.meta,
    },
    onlySealed ? 400 : 503,
  );
}

/**
 * A part's failure in a detail: an ApiError's code and message (`ingest_busy`, `customer_moving`);
 * anything else is logged, as the error boundary logs it, and named only by a request id.
 */
function failureReason(c: Context<AppEnv>, error: unknown): string {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  const requestId = crypto.randomUUID();
  const cause = error instanceof Error ? error : new Error(String(error));
  console.error(
    JSON.stringify({
      level: "error",
      event: "shard_write_failed",
      request_id: requestId,
      path: new URL(c.req.url).pathname,
      error: { name: cause.name, message: cause.message, stack: cause.stack },
    }),
  );
  return `internal: the database failed; quote request id ${requestId} when reporting it`;
}

/**
 * Checks a body against the schemas: one event, or `{"events": [...]}`. Items of a batch are checked
 * one by one so every bad item is reported and the good ones still get their deeper checks.
 */
function checkEventsBody(body: unknown): { items: IncomingItem[]; details: ErrorDetail[] } {
  const isBatch = body !== null && typeof body === "object" && !Array.isArray(body) && "events" in body;
  if (!isBatch) {
    const details = itemProblems(body, "");
    return { items: details.length > 0 ? [] : [{ event: body as IncomingEvent, at: "" }], details };
  }
  const { events } = body as { events: unknown };
  // Checked before the schema so a huge array is refused without validating every item.
  if (Array.isArray(events) && events.length > REQUEST_LIMITS.maxEventsPerBatch) {
    throw new ApiError(
      400,
      "too_many_events",
      `A request may carry at most ${REQUEST_LIMITS.maxEventsPerBatch} events.`,
      [
        {
          path: "/events",
          message: `has ${events.length} events; send at most ${REQUEST_LIMITS.maxEventsPerBatch} per request`,
        },
      ],
    );
  }
  // The envelope alone (the items are checked one by one below).
  const envelope = Array.isArray(events) ? { ...body, events: [] } : body;
  const envelopeProblems = schemaProblems(validateEventBatch, envelope).filter(
    (detail) => !(detail.path === "/events" && Array.isArray(events) && events.length > 0),
  );
  if (!Array.isArray(events) || envelopeProblems.length > 0) return { items: [], details: envelopeProblems };

  const items: IncomingItem[] = [];
  const details: ErrorDetail[] = [];
  events.forEach((candidate: unknown, index) => {
    const at = `/events/${index}`;
    const problems = itemProblems(candidate, at);
    if (problems.length > 0) details.push(...problems);
    else items.push({ event: candidate as IncomingEvent, at });
  });
  return { items, details };
}

/**
 * Schema problems of one event. A schema-invalid event skips normalisation, so its timestamp is
 * checked here too: the client learns about every problem of the item in one round trip.
 */
function itemProblems(candidate: unknown, at: string): ErrorDetail[] {
  const problems = schemaProblems(validateEvent, candidate, at);
  if (problems.length === 0) return problems;
  const occurredAt = (candidate as { occurred_at?: unknown } | null)?.occurred_at;
  const path = `${at}/occurred_at`;
  if (
    typeof occurredAt === "string" &&
    parseInstant(occurredAt) === null &&
    !problems.some((p) => p.path === path)
  ) {
    problems.push({ path, message: OCCURRED_AT_MESSAGE });
  }
  // Likewise properties nested too deep or holding a lone surrogate (worker/ingest/check-properties.ts).
  const properties = (candidate as { properties?: unknown } | null)?.properties;
  if (
    typeof properties === "object" &&
    properties !== null &&
    !problems.some((p) => p.path === `${at}/properties` || p.path.startsWith(`${at}/properties/`))
  ) {
    problems.push(...propertiesProblems(properties, `${at}/properties`));
  }
  return problems;
}

/** One detail per event dated in a day the archiver has sealed (worker/archive/archive-events.ts). */
function sealedDetails(
  error: SealedEventsError,
  items: readonly IncomingItem[],
  ruleset: Ruleset,
): ErrorDetail[] {
  const refused = new Set(error.ids);
  const retention = ruleset.ir.eventRetentionMs;
  const kept =
    retention === null ? "" : ` (settings.event_retention keeps ${Math.round(retention / 86_400_000)} days)`;
  return items
    .filter(({ event }) => refused.has(event.id))
    .map(({ at }) => ({
      path: `${at}/occurred_at`,
      message: `is before ${new Date(error.sealedBefore).toISOString()}: raw events of those days are archived${kept}, so this event could not be told apart from a resend; it was not stored`,
    }));
}

/** Orders details by the batch item they point into, so they read top to bottom. */
function byItem(a: ErrorDetail, b: ErrorDetail): number {
  const item = (detail: ErrorDetail) => Number(/^\/events\/(\d+)/.exec(detail.path)?.[1] ?? -1);
  return item(a) - item(b);
}

export const eventRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/events", scope: "events:write", handler: postEvents, doc: postEventsDoc },
];
