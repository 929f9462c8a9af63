/**
 * Erasures during a growth. An erasure keeps only a SHA-256 pseudonym of the customer id
 * (worker/customer-key.ts), so its slot, and the shard it belongs on, cannot be computed: every
 * erasure of an old shard is copied to every new shard instead (`INSERT OR IGNORE`), which keeps an
 * erased customer erased wherever its id is routed next. An erasure row on a shard its customer
 * never lived on matches nothing else: the extra rows cost a few bytes each.
 */
import type { Shard } from "../db/shards";

/** Erasure rows read per statement. */
const PAGE_SIZE = 500;

/** Copies the erasures of every shard below `from` to every shard from `from` on; answers how many rows. */
export async function copyErasures(shards: readonly Shard[], from: number): Promise<number> {
  const targets = shards.filter((shard) => shard.index >= from);
  let copied = 0;
  for (const source of shards.filter((shard) => shard.index < from)) {
    let after = "";
    for (;;) {
      const page = await source.db
        .prepare("SELECT * FROM erasures WHERE customer_key > ?1 ORDER BY customer_key LIMIT ?2")
        .bind(after, PAGE_SIZE)
        .all<{
          customer_key: string;
          erased_at: number;
          archive_days: string;
          completed_at: number | null;
        }>();
      const rows = page.results;
      if (rows.length === 0) break;
      const json = JSON.stringify(rows);
      for (const target of targets) {
        await target.db
          .prepare(
            `INSERT OR IGNORE INTO erasures (customer_key, erased_at, archive_days, completed_at)
             SELECT r.value ->> 'customer_key', r.value ->> 'erased_at', r.value ->> 'archive_days',
                    r.value ->> 'completed_at'
             FROM json_each(?1) AS r WHERE true`,
          )
          .bind(json)
          .run();
      }
      copied += rows.length;
      after = rows[rows.length - 1]?.customer_key ?? after;
      if (rows.length < PAGE_SIZE) break;
    }
  }
  return copied;
}
