/**
 * Ingest stage 3 of 3 on a sharded deployment (worker/db/shards.ts): a request's events are split by
 * their customer's shard and each shard's part is written with `writeEvents` (worker/ingest/
 * write-events.ts) on that shard, the shards in parallel. Each part is all-or-nothing (one D1 batch
 * on its database); the request as a whole is not, since no transaction spans two databases. The
 * route reports which parts were stored and which were not (docs/api.md, "Sharded deployments"):
 * sending the request again is safe, ingest being idempotent by event id.
 *
 * With one database (or every event on one shard) there is one part, written as it always was.
 */
import { asCustomerMoving, groupByShard } from "../db/shards";
import type { Env } from "../env";
import type { ReportingZoneSettings } from "../metrics/days";
import type { NormalizedEvent } from "./normalize";
import { type WriteResult, writeEvents } from "./write-events";

/** How one shard's part of a request went. */
export type ShardPart =
  | {
      readonly shard: number;
      readonly events: readonly NormalizedEvent[];
      readonly stored: true;
      readonly result: WriteResult;
    }
  | {
      readonly shard: number;
      readonly events: readonly NormalizedEvent[];
      readonly stored: false;
      /** Why nothing of this part was written (an ApiError, a SealedEventsError or a D1 error). */
      readonly error: unknown;
    };

/**
 * Writes `events` (unique ids, normalised) on their customers' shards, one all-or-nothing write per
 * shard, and says how each part went, in shard order. Never throws for a shard's failure: the
 * caller decides what a partly stored request answers. A write that hit a customer's move fence
 * fails with the 503 `customer_moving`.
 *
 * @example const parts = await writeEventsByShard(env, events, wallClock(), ruleset);
 */
export async function writeEventsByShard(
  env: Env,
  events: readonly NormalizedEvent[],
  receivedAt: number,
  zones: ReportingZoneSettings,
): Promise<ShardPart[]> {
  const groups = [...(await groupByShard(env, events, (event) => event.customer_id)).values()];
  const parts = await Promise.all(
    groups.map(async ({ shard, items }): Promise<ShardPart> => {
      try {
        const result = await writeEvents(shard.db, items, receivedAt, zones);
        return { shard: shard.index, events: items, stored: true, result };
      } catch (error) {
        return { shard: shard.index, events: items, stored: false, error: asCustomerMoving(error) };
      }
    }),
  );
  return parts.sort((a, b) => a.shard - b.shard);
}
