/**
 * `POST /v1/events`: event ingest, one event or `{"events": [...]}`. Ingest stage 1 of 3
 * (validate → normalise → write): the body is checked against the build-time compiled JSON Schemas,
 * then handed to worker/ingest/.
 *
 * A request is all-or-nothing: any invalid item rejects the whole request with every problem listed,
 * and the write is one D1 batch (= one transaction).
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
import { SealedEventsError, writeEvents } from "../../ingest/write-events";
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

  const written = await writeEvents(c.env.DB, normalized.events, wallClock(), c.get("ruleset")).catch(
    (error: unknown) => {
      if (!(error instanceof SealedEventsError)) throw error;
      throw validationFailed(sealedDetails(error, items, c.get("ruleset")));
    },
  );
  const duplicateIds = [...normalized.duplicateIdsInRequest, ...written.duplicateIds];
  return c.json({
    accepted: written.accepted,
    duplicates: duplicateIds.length,
    duplicate_ids: duplicateIds,
    // Ids already stored with other content: the stored event wins and is left unchanged.
    conflicting_ids: written.conflictingIds,
    // Events for customers erased on request: refused and not stored (docs/privacy.md).
    erased: written.erasedIds.length,
    erased_ids: written.erasedIds,
    meta: { rows_read: written.rowsRead, rows_written: written.rowsWritten },
  });
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
