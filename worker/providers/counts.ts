/**
 * `provider_event_counts` (migrations/0009): one UPSERT per delivered provider event (not per replay), one row per
 * provider, event type, outcome and UTC day; read by `GET /v1/admin/provider-events`.
 *
 * Stage: the end of a provider webhook (ingest-provider-event.ts), and the admin read.
 */
import type { Outcome, Provider } from "./mapping";

/** Longest provider event type kept; longer ones are cut (they are the provider's, not ours). */
const MAX_TYPE_LENGTH = 100;

const UPSERT_SQL = `
INSERT INTO provider_event_counts (provider, event_type, outcome, day, count, last_received_at)
VALUES (?1, ?2, ?3, ?4, 1, ?5)
ON CONFLICT (provider, event_type, outcome, day) DO UPDATE SET
  count = count + 1,
  last_received_at = max(last_received_at, excluded.last_received_at)`;

/** The statement counting one delivery at `receivedAt` (epoch ms), to run alone or in a batch. */
export function countProviderEvent(
  db: D1Database,
  provider: Provider,
  eventType: string,
  outcome: Outcome,
  receivedAt: number,
): D1PreparedStatement {
  const day = new Date(receivedAt).toISOString().slice(0, 10);
  return db.prepare(UPSERT_SQL).bind(provider, eventType.slice(0, MAX_TYPE_LENGTH), outcome, day, receivedAt);
}

/** One row of the counts, as the admin route answers it. */
export interface ProviderEventCount {
  day: string;
  provider: string;
  event_type: string;
  outcome: string;
  count: number;
  last_received_at: string;
}

/** The counts of days `from`..`to` (inclusive, `YYYY-MM-DD`), optionally of one provider, newest first. */
export async function readProviderEventCounts(
  db: D1Database,
  from: string,
  to: string,
  provider: Provider | null,
): Promise<ProviderEventCount[]> {
  const { results } = await db
    .prepare(
      `SELECT day, provider, event_type, outcome, count, last_received_at FROM provider_event_counts
       WHERE day BETWEEN ?1 AND ?2 AND (?3 IS NULL OR provider = ?3)
       ORDER BY day DESC, provider, event_type, outcome`,
    )
    .bind(from, to, provider)
    .all<{
      day: string;
      provider: string;
      event_type: string;
      outcome: string;
      count: number;
      last_received_at: number;
    }>();
  return results.map((row) => ({ ...row, last_received_at: new Date(row.last_received_at).toISOString() }));
}
