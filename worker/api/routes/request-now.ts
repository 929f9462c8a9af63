/**
 * The instant a request is decided at. "Now" is the request's arrival time; an admin key may move it
 * with `X-Rebound-Now: <ISO 8601 time or epoch ms>` so tests and demos step through expiries, caps
 * and cooldowns instead of waiting; a time that names no real instant (30 February) is a 400. Any other key sending the header is refused (403), never
 * silently ignored, so nobody mistakes a real decision for a simulated one.
 */
import type { Context } from "hono";
import { allows } from "../../auth/keys";
import { wallClock } from "../../clock";
import { ApiError, validationFailed } from "../../errors";
import { parseInstant } from "../../timestamps";
import type { AppEnv } from "../app-env";

export const NOW_HEADER = "x-rebound-now";

/** The request's "now" in epoch ms (the header's, for admin keys that send it). */
export function requestNow(c: Context<AppEnv>): number {
  const header = c.req.header(NOW_HEADER);
  if (header === undefined) return wallClock();
  if (!allows(c.get("principal").scopes, "admin")) {
    throw new ApiError(403, "forbidden", "Only an admin key may set the clock with X-Rebound-Now.");
  }
  const text = header.trim();
  // The strict parser events go through: Date.parse would take 2026-02-30 as 2 March.
  const at = /^\d{1,15}$/.test(text) ? Number(text) : parseInstant(text);
  if (at === null) {
    throw validationFailed([
      {
        path: "header:X-Rebound-Now",
        message: "must be a real ISO 8601 time with a zone (2026-03-03T15:00:00Z) or epoch milliseconds",
      },
    ]);
  }
  return at;
}
