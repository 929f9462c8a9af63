/**
 * `POST /v1/events`: event ingest, one event or `{"events": [...]}`. Ingest stage 1 of 3
 * (validate → normalise → write): the body is checked against the build-time compiled JSON Schemas,
 * then handed to worker/ingest/.
 *
 * A request is all-or-nothing: any invalid item rejects the whole request with every problem listed,
 * and the write is one D1 batch (= one transaction).
 */

import type { Context } from "hono";
import { validateEvent, validateEventBatch } from "../../generated/validators.js";
import { type IncomingEvent, normalizeEvents } from "../../ingest/normalize";
import { writeEvents } from "../../ingest/write-events";
import { LIMITS } from "../../limits";
import type { AppEnv, RouteDef } from "../app-env";
import { ApiError, validationFailed } from "../errors";
import { readJsonBody } from "../json-body";
import { schemaProblems } from "../validation";

async function postEvents(c: Context<AppEnv>): Promise<Response> {
  const body = await readJsonBody(c.req.raw, LIMITS.maxBodyBytes);
  const { incoming, pointer } = parseEventsBody(body);
  const normalized = normalizeEvents(incoming, pointer);
  if (normalized.details.length > 0) throw validationFailed(normalized.details);

  const written = await writeEvents(c.env.DB, normalized.events, Date.now());
  const duplicateIds = [...normalized.duplicateIdsInRequest, ...written.duplicateIds];
  return c.json({
    accepted: written.accepted,
    duplicates: duplicateIds.length,
    duplicate_ids: duplicateIds,
    // Ids already stored with other content: the stored event wins and is left unchanged.
    conflicting_ids: written.conflictingIds,
    meta: { rows_read: written.rowsRead, rows_written: written.rowsWritten },
  });
}

function parseEventsBody(body: unknown): {
  incoming: IncomingEvent[];
  pointer: (index: number) => string;
} {
  const isBatch = body !== null && typeof body === "object" && !Array.isArray(body) && "events" in body;
  if (!isBatch) {
    const details = schemaProblems(validateEvent, body);
    if (details.length > 0) throw validationFailed(details);
    return { incoming: [body as IncomingEvent], pointer: () => "" };
  }
  const { events } = body as { events: unknown };
  // Checked before the schema so a huge array is refused without validating every item.
  if (Array.isArray(events) && events.length > LIMITS.maxEventsPerBatch) {
    throw new ApiError(
      400,
      "too_many_events",
      `A request may carry at most ${LIMITS.maxEventsPerBatch} events.`,
      [
        {
          path: "/events",
          message: `has ${events.length} events; send at most ${LIMITS.maxEventsPerBatch} per request`,
        },
      ],
    );
  }
  const details = schemaProblems(validateEventBatch, body);
  if (details.length > 0) throw validationFailed(details);
  return { incoming: events as IncomingEvent[], pointer: (index) => `/events/${index}` };
}

export const eventRoutes: readonly RouteDef[] = [
  { method: "POST", path: "/v1/events", scope: "events:write", handler: postEvents },
];
