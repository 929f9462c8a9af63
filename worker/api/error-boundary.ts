/**
 * The one error boundary of the HTTP API (Hono `app.onError`). Known errors become
 * `{"error": {"code", "message", "details"}}` with their status; anything else is logged as one
 * structured line and answered with a 500 that names no internals, only a request id to quote.
 */
import type { Context } from "hono";
import { ApiError, ChallengeError } from "../errors";
import type { AppEnv } from "./app-env";

/** Hono `onError` handler. */
export function errorBoundary(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ApiError) {
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
