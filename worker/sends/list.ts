/**
 * Reading sends and outbox messages back for the API (GET /v1/sends, GET /v1/outbox): newest
 * first, keyset-paginated on the send id (ids sort by creation), each query a seek on an index.
 * On a sharded deployment each shard answers the same page request and the pages are merged on the
 * id (worker/db/shard-reads.ts); a list filtered by customer reads that customer's shard only, and a
 * send found by id is looked up on the shard its id's slot names.
 */
import { findBySlot, mergePages, readShards, type ShardCost } from "../db/shard-reads";
import { allShards, customerShard } from "../db/shards";
import type { Env } from "../env";
import { idSlot } from "../ids";
import type { SendRow, SendStatus } from "./types";

/** A page request: `cursor` is the last id of the previous page. */
export interface PageRequest {
  limit: number;
  cursor: string | null;
}

export interface SendFilter extends PageRequest {
  /** Only these statuses (empty: all). */
  statuses: readonly SendStatus[];
  customerId: string | null;
}

/** One page of rows and the cursor of the next page (null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  /** D1's rows_read for the query: what reading this page was billed. */
  rowsRead: number;
}

/**
 * Lists sends matching `filter`, newest first. The statement is assembled from fixed fragments
 * (never from request text) so that each shape is an index seek: by customer on
 * `sends_customer_id`, by one status on `sends_status_id`, several statuses as one seek per status
 * merged, and no filter on the primary key; each reads at most `limit + 1` rows per seek.
 */
export async function listSends(db: D1Database, filter: SendFilter): Promise<Page<SendRow>> {
  const take = filter.limit + 1;
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (filter.customerId !== null) {
    params.push(filter.customerId);
    conditions.push(`customer_id = ?${params.length}`);
  }
  if (filter.cursor !== null) {
    params.push(filter.cursor);
    conditions.push(`id < ?${params.length}`);
  }
  const where = (extra: string[]) => {
    const all = [...conditions, ...extra];
    return all.length === 0 ? "" : `WHERE ${all.join(" AND ")}`;
  };
  let sql: string;
  if (filter.statuses.length === 0 || filter.customerId !== null) {
    if (filter.statuses.length > 0) {
      params.push(JSON.stringify(filter.statuses));
      conditions.push(`status IN (SELECT value FROM json_each(?${params.length}))`);
    }
    params.push(take);
    sql = `SELECT * FROM sends ${where([])} ORDER BY id DESC LIMIT ?${params.length}`;
  } else {
    params.push(take);
    const limitParam = params.length;
    const seeks = filter.statuses.map((status) => {
      params.push(status);
      return `SELECT * FROM (SELECT * FROM sends ${where([`status = ?${params.length}`])} ORDER BY id DESC LIMIT ?${limitParam})`;
    });
    sql = `${seeks.join(" UNION ALL ")} ORDER BY id DESC LIMIT ?${limitParam}`;
  }
  const { results, meta } = await db
    .prepare(sql)
    .bind(...params)
    .all<SendRow>();
  return page(results, filter.limit, meta.rows_read);
}

/** Reads one send by id. */
export async function getSend(db: D1Database, sendId: string): Promise<SendRow | null> {
  return db.prepare("SELECT * FROM sends WHERE id = ?1").bind(sendId).first<SendRow>();
}

/** An `outbox` row as D1 returns it. */
export interface OutboxRow {
  id: string;
  customer_id: string;
  recipient: string | null;
  message_key: string;
  subject: string;
  text: string;
  html: string | null;
  programme_kind: string;
  programme_key: string;
  occurrence: string;
  step: string;
  delivered_at: number;
}

/** Lists outbox messages, newest first, optionally for one customer. */
export async function listOutbox(
  db: D1Database,
  filter: PageRequest & { customerId: string | null },
): Promise<Page<OutboxRow>> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (filter.customerId !== null) {
    params.push(filter.customerId);
    conditions.push(`customer_id = ?${params.length}`);
  }
  if (filter.cursor !== null) {
    params.push(filter.cursor);
    conditions.push(`id < ?${params.length}`);
  }
  params.push(filter.limit + 1);
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const { results, meta } = await db
    .prepare(`SELECT * FROM outbox ${where} ORDER BY id DESC LIMIT ?${params.length}`)
    .bind(...params)
    .all<OutboxRow>();
  return page(results, filter.limit, meta.rows_read);
}

/** A page read across shards, with what it cost on them. */
export interface ShardedPage<T> extends Page<T> {
  cost: ShardCost;
}

/**
 * Lists sends matching `filter` on every shard (the customer's shard alone with a customer filter),
 * newest first: each shard answers `listSends` for the same cursor, and the pages merge on the id.
 */
export async function listSendsAcrossShards(env: Env, filter: SendFilter): Promise<ShardedPage<SendRow>> {
  return acrossShards(env, filter.customerId, filter.limit, (db) => listSends(db, filter));
}

/** Lists outbox messages on every shard (or the customer's), newest first; see listSendsAcrossShards. */
export async function listOutboxAcrossShards(
  env: Env,
  filter: PageRequest & { customerId: string | null },
): Promise<ShardedPage<OutboxRow>> {
  return acrossShards(env, filter.customerId, filter.limit, (db) => listOutbox(db, filter));
}

async function acrossShards<T extends { id: string }>(
  env: Env,
  customerId: string | null,
  limit: number,
  read: (db: D1Database) => Promise<Page<T>>,
): Promise<ShardedPage<T>> {
  const shards = customerId === null ? allShards(env) : [await customerShard(env, customerId)];
  const { values, cost } = await readShards(shards, read);
  const merged = mergePages(
    values.map((shardPage) => ({ rows: shardPage.items, more: shardPage.nextCursor !== null })),
    limit,
    (row) => [row.id],
    "desc",
  );
  return {
    items: merged.rows,
    nextCursor: merged.more ? (merged.rows.at(-1)?.id ?? null) : null,
    rowsRead: cost.rows_read,
    cost,
  };
}

/**
 * Reads one send by id on a sharded deployment: on the shard its slot names, else (an id made
 * before sharding) on the others. Returns the row and the database it is in.
 */
export async function findSend(env: Env, sendId: string): Promise<{ row: SendRow; db: D1Database } | null> {
  const found = await findBySlot(env, idSlot(sendId), (db) => getSend(db, sendId));
  return found === null ? null : { row: found.row, db: found.shard.db };
}

function page<T extends { id: string }>(rows: T[], limit: number, rowsRead: number): Page<T> {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null, rowsRead };
}
