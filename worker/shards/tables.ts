/**
 * The tables that hold a customer's rows and move with it between shards, parents first (a
 * redemption references its decision). Per-shard aggregates (`metric_days`, `provider_event_counts`)
 * stay where they were counted: their sums across shards are what readers use, and a move neither
 * adds nor removes a count. An erasure is found by the customer's pseudonym (worker/customer-key.ts):
 * a customer erased after the move tool listed it moves as its erasure alone, so that it stays
 * erased on the new shard (all erasures are also copied at each pass, worker/shards/erasures.ts).
 * `campaign_runs`, `tick_state`, `tick_units` and `archive_days` belong to the shard, not to a customer.
 */

/** One table a customer's rows are moved in. */
export interface CustomerTable {
  readonly name: string;
  /** The column holding the customer id (or its pseudonym, when `byPseudonym`). */
  readonly customerColumn: string;
  /** True when the column holds the SHA-256 pseudonym of the id rather than the id. */
  readonly byPseudonym?: boolean;
  /** The primary key's columns: the order rows are read in, so both sides digest alike. */
  readonly key: readonly string[];
}

/** Every per-customer table, parents before children (copy in this order, delete in reverse). */
export const CUSTOMER_TABLES: readonly CustomerTable[] = Object.freeze([
  { name: "customers", customerColumn: "id", key: ["id"] },
  { name: "events", customerColumn: "customer_id", key: ["id"] },
  { name: "event_days", customerColumn: "customer_id", key: ["day", "type", "currency"] },
  { name: "decisions", customerColumn: "customer_id", key: ["id"] },
  { name: "redemptions", customerColumn: "customer_id", key: ["decision_id"] },
  { name: "sends", customerColumn: "customer_id", key: ["id"] },
  { name: "outbox", customerColumn: "customer_id", key: ["id"] },
  { name: "dunning_cases", customerColumn: "customer_id", key: ["invoice_id"] },
  { name: "campaign_exclusions", customerColumn: "customer_id", key: ["campaign", "occurrence", "step"] },
  { name: "provider_held_events", customerColumn: "customer_id", key: ["provider", "provider_event_id"] },
  { name: "erasures", customerColumn: "customer_key", key: ["customer_key"], byPseudonym: true },
]);

/** A customer's rows of one table, as D1 returns them. */
export type Row = Record<string, unknown>;
