/**
 * The fence triggers: on every per-customer table a shard holds, one BEFORE INSERT, one BEFORE UPDATE
 * and one BEFORE DELETE trigger that aborts the write with `customer_moving` while the customer has a
 * fence (`customer_fences`, worker/shards/fences.ts) with `writable = 0`.
 *
 * They exist only while a growth is in progress. Each written row of a fenced table probes
 * `customer_fences` (empty outside a move: +2 rows read for a single new event, 18 instead of 16), so a
 * deployment that never moves a customer must not carry them: migrations/0012 creates the table only.
 * The move pass installs them on every shard it involves before it fences anyone
 * (worker/shards/move-pass.ts), and `POST /v1/admin/shards/finish` drops them once the growth is
 * over (worker/shards/finish.ts). Installing is safe against writers already running: SQLite runs one
 * write at a time, so every write that starts after the install's batch has committed sees the
 * triggers, and the fence row that arms them is inserted after that, in a later statement.
 *
 * The SQL is built from `CUSTOMER_TABLES` (worker/shards/tables.ts): erasures, found by pseudonym and
 * written only by the erasure itself, are not fenced.
 */
import { CUSTOMER_TABLES } from "./tables";

/** One fence trigger: its name and the statement that creates it. */
export interface FenceTrigger {
  readonly name: string;
  readonly table: string;
  readonly create: string;
}

/** The writes a trigger watches, and which row (`OLD`, `NEW` or both) names the customer. */
const WATCHED = [
  { event: "INSERT", rows: ["NEW"] },
  { event: "UPDATE", rows: ["OLD", "NEW"] },
  { event: "DELETE", rows: ["OLD"] },
] as const;

/** The condition that holds when the customer in `row`.`column` is fenced and not writable. */
function fenced(row: string, column: string): string {
  return `EXISTS (SELECT 1 FROM \`customer_fences\` WHERE \`customer_id\` = ${row}.\`${column}\` AND \`writable\` = 0)`;
}

/** The 30 fence triggers: three per fenced table, in the order of `CUSTOMER_TABLES`. */
export const FENCE_TRIGGERS: readonly FenceTrigger[] = Object.freeze(
  CUSTOMER_TABLES.filter((table) => !table.byPseudonym).flatMap((table) =>
    WATCHED.map(({ event, rows }) => {
      const name = `${table.name}_fence_${event.toLowerCase()}`;
      const when = rows.map((row) => fenced(row, table.customerColumn)).join(" OR ");
      return {
        name,
        table: table.name,
        create: `CREATE TRIGGER IF NOT EXISTS \`${name}\` BEFORE ${event} ON \`${table.name}\`
WHEN ${when}
BEGIN
	SELECT RAISE(ABORT, 'customer_moving');
END`,
      };
    }),
  ),
);

/** The names of the fence triggers, for queries on `sqlite_master`. */
export const FENCE_TRIGGER_NAMES: readonly string[] = FENCE_TRIGGERS.map((trigger) => trigger.name);

/** The statements that drop every fence trigger (those absent are skipped). */
export function dropFenceTriggerStatements(db: D1Database): D1PreparedStatement[] {
  return FENCE_TRIGGERS.map((trigger) => db.prepare(`DROP TRIGGER IF EXISTS \`${trigger.name}\``));
}

/** Creates the fence triggers a shard lacks, in one batch (all or none). Idempotent. */
export async function installFenceTriggers(db: D1Database): Promise<void> {
  await db.batch(FENCE_TRIGGERS.map((trigger) => db.prepare(trigger.create)));
}

/** Drops every fence trigger of a shard, in one batch. Idempotent. */
export async function removeFenceTriggers(db: D1Database): Promise<void> {
  await db.batch(dropFenceTriggerStatements(db));
}

/** How many of the fence triggers a shard holds (0 outside a growth, 30 during one). */
export function countFenceTriggers(db: D1Database): D1PreparedStatement {
  return db
    .prepare(
      "SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name IN (SELECT value FROM json_each(?1))",
    )
    .bind(JSON.stringify(FENCE_TRIGGER_NAMES));
}
