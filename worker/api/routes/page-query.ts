/**
 * Reads `?limit=` and `?cursor=` for the keyset-paginated listings (sends, outbox), reporting bad
 * values as validation details rather than guessing.
 */
import type { Context } from "hono";
import type { ErrorDetail } from "../../errors";
import { isSendId } from "../../ids";
import { SEND_LIMITS } from "../../sends/limits";
import type { PageRequest } from "../../sends/list";
import type { AppEnv } from "../app-env";

/** The page asked for, and the problems with the query (the caller answers 400 when there are any). */
export function readPageQuery(c: Context<AppEnv>): { page: PageRequest; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  let limit: number = SEND_LIMITS.defaultPageSize;
  const limitText = c.req.query("limit");
  if (limitText !== undefined) {
    limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > SEND_LIMITS.maxPageSize) {
      problems.push({
        path: "?limit",
        message: `must be a whole number from 1 to ${SEND_LIMITS.maxPageSize}`,
      });
    }
  }
  const cursor = c.req.query("cursor") || null;
  if (cursor !== null && !isSendId(cursor)) {
    problems.push({ path: "?cursor", message: "must be the next_cursor of a previous page" });
  }
  return { page: { limit, cursor }, problems };
}
