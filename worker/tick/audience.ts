/**
 * Reads a campaign stage's audience a page at a time: the campaign's compiled SQL over
 * `customers c` (bound at the stage's due time, so a resumed run sees the same audience), in id
 * order after the keyset cursor, minus customers already sent this step or already excluded from
 * it, and (for later steps) only customers who were sent the step before. Each page also counts the
 * customer's recent messages of the campaign's frequency-cap class.
 *
 * Cost: a campaign whose audience fixes `status` seeks customers_status_id and walks ids in order
 * (no sort); the anti-joins are probes of unique indexes (a probe that finds nothing reads no row);
 * the cap count seeks sends_customer_id over the cap window. `rows_read` comes from D1's own meta.
 */
import { bindSql } from "../../dsl/sql";
import type { CustomerRowJson } from "./context";
import type { CampaignStage } from "./stages";

export interface AudienceQuery {
  readonly stage: CampaignStage;
  readonly occurrence: string;
  /** The instant the audience is evaluated at (the stage's due time). */
  readonly at: number;
  /** Last customer id of the previous page ("" for the first). */
  readonly cursor: string;
  readonly limit: number;
  /** The cap window: count this customer's sends of `capCampaigns` with ids at or above `capFromId`. */
  readonly cap: { readonly capFromId: string; readonly capCampaigns: readonly string[] } | null;
}

export interface AudienceRow extends CustomerRowJson {
  /** Recent messages of the campaign's cap class (0 without a cap). */
  rebound_cap_count: number;
}

export interface AudiencePage {
  readonly rows: AudienceRow[];
  readonly rowsRead: number;
}

/** Reads one page of a stage's audience. */
export async function readAudiencePage(db: D1Database, query: AudienceQuery): Promise<AudiencePage> {
  const { stage, occurrence, cursor, limit, cap } = query;
  const campaign = stage.campaign;
  const step = String(stage.step);
  const params: (string | number | null)[] = [];
  let capSql = "0";
  if (cap) {
    capSql = `(SELECT count(*) FROM sends r WHERE r.customer_id = c.id AND r.id >= ?
      AND r.programme_kind = 'campaign' AND r.programme_key IN (SELECT value FROM json_each(?))
      AND r.status <> 'dead')`;
    params.push(cap.capFromId, JSON.stringify(cap.capCampaigns));
  }
  params.push(...bindSql(campaign.audienceSql, query.at));
  params.push(cursor, campaign.key, occurrence, step, campaign.key, occurrence, step);
  let previousStep = "";
  if (stage.step > 0) {
    previousStep = `AND EXISTS (SELECT 1 FROM sends p WHERE p.programme_kind = 'campaign' AND p.programme_key = ?
      AND p.occurrence = ? AND p.step = ? AND p.customer_id = c.id AND p.status <> 'dead')`;
    params.push(campaign.key, occurrence, String(stage.step - 1));
  }
  params.push(limit);
  // Plain `?` placeholders throughout: the audience fragment's own are positional.
  const sql = `SELECT c.*, ${capSql} AS rebound_cap_count FROM customers c
    WHERE (${campaign.audienceSql.sql}) AND c.id > ?
      AND NOT EXISTS (SELECT 1 FROM sends s WHERE s.programme_kind = 'campaign' AND s.programme_key = ?
        AND s.occurrence = ? AND s.step = ? AND s.customer_id = c.id)
      AND NOT EXISTS (SELECT 1 FROM campaign_exclusions x WHERE x.campaign = ? AND x.occurrence = ?
        AND x.step = ? AND x.customer_id = c.id)
      ${previousStep}
    ORDER BY c.id LIMIT ?`;
  const { results, meta } = await db
    .prepare(sql)
    .bind(...params)
    .all<AudienceRow>();
  return { rows: results, rowsRead: meta.rows_read ?? 0 };
}

/** The smallest send id created at or after `at` (send ids start with their creation time). */
export function sendIdFloor(at: number): string {
  return `snd_${Math.max(0, Math.floor(at)).toString(16).padStart(12, "0")}`;
}
