/**
 * The campaign bench's synthetic customers, written straight into each shard's local database (never
 * through the API: a million customers would take hours). Customer `cus_0000042` is number 42; its
 * shard is `placedShard(id, shards)` (worker/db/placement.ts), so each database holds exactly the
 * customers the Worker looks for there. Per shard, a SQL file loads that shard's numbers into a
 * scratch table, derives every customer row from its number in one INSERT … SELECT, and drops the
 * scratch table.
 *
 * Of every `period` numbers (20 for an audience of 10%, 200 for 1%): 2 canceled 14-180 days ago for
 * a reason the campaign targets (the audience), 1 canceled but outside it (long ago, or for
 * shutting_down/other), the rest active and recently seen. Cancellations avoid days 29-31 and 59-61
 * so the win-back sequences (days 7, 30, 60) stay quiet and the tick measures the campaign.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { placedShard } from "../worker/db/placement";
import { executeFile, type LocalDeployment } from "./local-deployment";

const DAY = 86_400_000;
/** Numbers per INSERT statement of the scratch table. */
const NUMBERS_PER_STATEMENT = 2_000;

/** The customers in the campaign's audience: 2 of every `period` numbers. */
export interface SeedShape {
  readonly customers: number;
  readonly period: number;
}

/** The shape whose audience is `percent` % of `customers` (2 of every 200 / percent). */
export function seedShape(customers: number, percent: number): SeedShape {
  const period = Math.round(200 / percent);
  if (!Number.isFinite(period) || period < 20)
    throw new Error(`the audience is at most 10% of the customers, not ${percent}%`);
  return { customers, period };
}

/** The id of customer number `n`. */
export function customerId(n: number): string {
  return `cus_${String(n).padStart(7, "0")}`;
}

/** Whether customer number `n` is active (never in the campaign's audience). */
export function isActive(shape: SeedShape, n: number): boolean {
  return n % shape.period >= 3;
}

/** Customer numbers 1 … `customers`, by the shard `placedShard` puts each on. */
function numbersByShard(customers: number, shards: number): number[][] {
  const buckets: number[][] = Array.from({ length: shards }, () => []);
  for (let n = 1; n <= customers; n += 1) buckets[placedShard(customerId(n), shards)]!.push(n);
  return buckets;
}

/** The customer rows of the numbers in `bench_numbers`, dated around `anchor`. */
function insertCustomersSql(shape: SeedShape, anchor: number): string {
  const reasons =
    "json_array('too_expensive','unused','hard_to_use','switched_to_competitor','missing_features')";
  return `INSERT INTO customers (id, email, first_name, plan, mrr, currency, status, signed_up_at, canceled_at,
    churn_reason, last_active_at, ltv, attributes, first_seen_at, last_event_at)
  SELECT printf('cus_%07d', i), printf('c%07d@example.com', i), 'Sam', 'pro', 4900, 'USD',
    CASE WHEN bucket IN (0, 1, 2) THEN 'canceled' ELSE 'active' END,
    ${anchor} - 400 * ${DAY},
    CASE WHEN bucket IN (0, 1) THEN ${anchor} - days * ${DAY}
         WHEN bucket = 2 AND (i / ${shape.period}) % 2 = 0 THEN ${anchor} - (200 + i % 200) * ${DAY}
         WHEN bucket = 2 THEN ${anchor} - days * ${DAY} END,
    CASE WHEN bucket IN (0, 1) THEN json_extract(${reasons}, '$[' || ((i / ${shape.period}) % 5) || ']')
         WHEN bucket = 2 AND (i / ${shape.period}) % 2 = 0 THEN 'too_expensive'
         WHEN bucket = 2 THEN CASE WHEN (i / ${shape.period}) % 4 = 1 THEN 'shutting_down' ELSE 'other' END END,
    ${anchor} - (i % 3) * ${DAY}, 0, '{}', ${anchor} - 400 * ${DAY}, ${anchor}
  FROM (
    SELECT i, bucket,
      CASE WHEN raw_days BETWEEN 29 AND 31 OR raw_days BETWEEN 59 AND 61 THEN raw_days + 3 ELSE raw_days END AS days
    FROM (SELECT i, i % ${shape.period} AS bucket, 14 + ((i * 7919) % 160) AS raw_days FROM bench_numbers)
  );`;
}

/** The SQL file that seeds one shard with `numbers`. */
function shardSeedSql(shape: SeedShape, numbers: readonly number[], anchor: number): string {
  const lines = ["CREATE TABLE bench_numbers (i INTEGER PRIMARY KEY);"];
  for (let start = 0; start < numbers.length; start += NUMBERS_PER_STATEMENT) {
    const values = numbers.slice(start, start + NUMBERS_PER_STATEMENT).map((n) => `(${n})`);
    lines.push(`INSERT INTO bench_numbers (i) VALUES ${values.join(",")};`);
  }
  lines.push(insertCustomersSql(shape, anchor), "DROP TABLE bench_numbers;");
  return `${lines.join("\n")}\n`;
}

/**
 * Seeds customers 1 … `shape.customers` onto the stopped deployment's shards (their rows dated around
 * `anchor`) and answers how many each shard got.
 */
export async function seedCustomers(
  deployment: LocalDeployment,
  shape: SeedShape,
  anchor: number,
): Promise<number[]> {
  const buckets = numbersByShard(shape.customers, deployment.shards);
  for (const [index, numbers] of buckets.entries()) {
    const file = join(deployment.persistTo, `seed-${index}.sql`);
    writeFileSync(file, shardSeedSql(shape, numbers, anchor));
    await executeFile(deployment, index, file);
  }
  return buckets.map((numbers) => numbers.length);
}
