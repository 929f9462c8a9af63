/**
 * Errors the API answers on purpose, below every folder that throws them: route handlers and domain
 * modules (auth, ingest, decisions, sends) throw an `ApiError`; the one error boundary in
 * worker/api/error-boundary.ts turns it into `{"error": {"code", "message", "details"}}`. Nothing
 * here renders HTTP: the status is data that the boundary answers with.
 */
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Stable error codes of the HTTP API. Clients match on these; never rename one. */
export type ApiErrorCode =
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "invalid_json"
  | "validation_failed"
  | "too_many_events"
  | "body_too_large"
  | "unsupported_media_type"
  | "customer_not_found"
  | "api_key_not_found"
  | "decision_not_found"
  | "no_offer"
  | "offer_expired"
  | "offer_declined"
  | "offer_accepted"
  | "offer_withdrawn"
  | "offer_superseded"
  | "send_not_found"
  | "send_not_dead"
  | "ingest_busy"
  // A write raced a move of its customer to another shard (worker/db/shards.ts): retry.
  | "customer_moving"
  // Finishing a growth while it is still in progress (worker/shards/finish.ts).
  | "growth_in_progress"
  // A batch spanning shards whose part on some shard was not stored (worker/api/routes/events.ts).
  | "events_not_all_stored"
  // Billing-provider webhooks (worker/providers/verify.ts, docs/providers.md).
  | "webhook_signature_missing"
  | "webhook_signature_invalid"
  | "webhook_timestamp_out_of_tolerance"
  | "webhook_not_configured"
  | "internal";

/**
 * One problem in a request. `path` says where:
 * - a JSON Pointer into the body, e.g. `/events/3/occurred_at` (`""` is the body as a whole);
 * - `?name` for a query parameter, e.g. `?context`;
 * - `header:Name` for a header, e.g. `header:X-Rebound-Now`;
 * - `path:name` for a parameter of the URL path, e.g. `path:id`.
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** An error with a status, a stable code and, for bad input, the list of what is wrong where. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/**
 * A 401 whose caller authenticates by something other than an API key (a billing provider's
 * signature or Basic credentials, worker/providers/verify.ts): `challenge` is the `WWW-Authenticate`
 * the error boundary answers with in place of the Bearer challenge.
 */
export class ChallengeError extends ApiError {
  constructor(
    code: ApiErrorCode,
    message: string,
    readonly challenge: string,
  ) {
    super(401, code, message);
    this.name = "ChallengeError";
  }
}

/**
 * 400 `validation_failed` with one detail per problem found. The message blames the body only when
 * every problem is in it; a query parameter, header or path parameter makes it "the request".
 */
export function validationFailed(details: readonly ErrorDetail[]): ApiError {
  const count = details.length === 1 ? "1 problem" : `${details.length} problems`;
  const what = details.every((detail) => isBodyPath(detail.path)) ? "request body" : "request";
  return new ApiError(400, "validation_failed", `The ${what} is invalid (${count}).`, details);
}

function isBodyPath(path: string): boolean {
  return path === "" || path.startsWith("/");
}
