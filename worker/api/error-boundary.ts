/**
 * The one error boundary of the HTTP API (Hono `app.onError`). Known errors become
 * `{"error": {"code", "message", "details"}}` with their status; anything else is logged as one
 * structured line and answered with a 500 that names no internals, only a request id to quote.
 */
import type { Context } from "hono";
import { asCustomerMoving } from "../db/shards";
import { ApiError, ChallengeError } from "../errors";
import type { AppEnv } from "./app-env";

/** Seconds a client waits before retrying a write that raced a move of its customer. */
const CUSTOMER_MOVING_RETRY_AFTER = "2";

/** Hono `onError` handler. */
export function errorBoundary(thrown: Error, c: Context<AppEnv>): Response {
  // A shard's fence trigger aborted the write (worker/shards/): the customer is moving; retry.
  const error = asCustomerMoving(thrown) as Error;
  if (error instanceof ApiError) {
    if (error.code === "customer_moving") c.header("Retry-After", CUSTOMER_MOVING_RETRY_AFTER);
    if (error.status === 401) {
      c.header(
        "WWW-Authenticate",
        error instanceof ChallengeError ? error.challenge : 'Bearer realm="rebound"',
      );
    }
    return c.json(
      { error: { code: error.code, message: error.message, details: error.details } },
      error.status,
    );
  }
  const requestId = crypto.randomUUID();
  console.error(
    JSON.stringify({
      level: "error",
      event: "unhandled_error",
      request_id: requestId,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      error: { name: error.name, message: error.message, stack: error.stack },
    }),
  );
  return c.json(
    {
      error: {
        code: "internal",
        message: `Something went wrong on our side. Quote request id ${requestId} when reporting it.`,
        details: [],
      },
    },
    500,
  );
}
