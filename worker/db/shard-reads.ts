/**
 * Reads that span every shard (docs/api.md "Pagination and cost", docs/scaling.md): the admin lists,
 * the metrics and `rebound plan` on a deployment whose customers live on several D1 databases.
 *
 * - Fan-out: `readEveryShard` runs one read on every shard in parallel, each through its own counted
 *   handle (worker/db/counted.ts), and reports what they cost together: queries and rows read summed,
 *   and how many shards were read.
 * - Keyset merge: a list ordered by a total key (ties broken by an id) asks every shard for its first
 *   `limit` rows after the cursor, in the list's order; the merged page is the first `limit` of their
 *   union in the same order. The next cursor is the last returned row's key. It is valid across shards
 *   because every shard is asked for the rows after that same key: a row a shard did not return lies
 *   after the `limit` rows it did, so after the page's last row, and no row is skipped or repeated.
 *   There is more when the union had more than `limit` rows or any shard said it had more.
 * - Lookup by id: an id that carries its customer's slot (decision and send ids, worker/ids.ts) is
 *   looked up on the slot's shards; an id made before sharding carries random digits there, so a miss
 *   asks every other shard (the legacy fallback).
 *
 * Keys compare as SQLite compares them: numbers by value, text by code point (BINARY collation over
 * UTF-8 orders by code point, which JavaScript's `<` over UTF-16 does not for astral characters).
 */
import type { Env } from "../env";
import { CountedD1 } from "./counted";
import { allShards, idShards, type Shard } from "./shards";

/** What a read across shards cost: D1 statements and rows read, summed, and the shards read. */
export interface ShardCost {
  queries: number;
  rows_read: number;
  shards: number;
}

/** The values one read answered on each shard (in shard order) and what they cost together. */
export interface EveryShard<T> {
  values: T[];
  cost: ShardCost;
}

/**
 * Runs `read` on every shard in parallel, each with a counted handle of its shard.
 *
 * @example const { values, cost } = await readEveryShard(env, (db) => countHeld(db, null));
 */
export async function readEveryShard<T>(
  env: Env,
  read: (db: D1Database, shard: Shard) => Promise<T>,
): Promise<EveryShard<T>> {
  return readShards(allShards(env), read);
}

/** Runs `read` on each of `shards` in parallel, each with a counted handle; see `readEveryShard`. */
export async function readShards<T>(
  shards: readonly Shard[],
  read: (db: D1Database, shard: Shard) => Promise<T>,
): Promise<EveryShard<T>> {
  const handles = shards.map((shard) => new CountedD1(shard.db));
  const values = await Promise.all(shards.map((shard, n) => read(handles[n]!, shard)));
  return { values, cost: costOf(handles) };
}

/** The summed cost of counted handles, one per shard read. */
export function costOf(handles: readonly CountedD1[]): ShardCost {
  let queries = 0;
  let rowsRead = 0;
  for (const handle of handles) {
    queries += handle.queries;
    rowsRead += handle.rowsRead;
  }
  return { queries, rows_read: rowsRead, shards: handles.length };
}

/**
 * A counted handle of every shard, for a reader that takes several databases (the metrics readers'
 * `…OfShards`). One database: a single handle of `DB`, as before sharding.
 */
export function countedShards(env: Env): CountedD1[] {
  return allShards(env).map((shard) => new CountedD1(shard.db));
}

/**
 * The `cost` a metrics answer reports: queries and rows read over every handle, plus `shards` when
 * more than one database was read (one database answers exactly what it did before sharding).
 */
export function reportedCost(handles: readonly CountedD1[]): {
  queries: number;
  rows_read: number;
  shards?: number;
} {
  const cost = costOf(handles);
  return handles.length > 1 ? cost : { queries: cost.queries, rows_read: cost.rows_read };
}

/** Adds costs of reads made one after the other (the shards of the later one counted once more). */
export function addCosts(a: ShardCost, b: ShardCost): ShardCost {
  return {
    queries: a.queries + b.queries,
    rows_read: a.rows_read + b.rows_read,
    shards: Math.max(a.shards, b.shards),
  };
}

/** A value of a sort key: a time or count, or text. */
export type KeyPart = string | number;

/** Text in code point order, as SQLite's BINARY collation orders UTF-8. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (half of a code point above U+FFFF) sorts after U+E000…U+FFFF by code point.
    const xHigh = x >= 0xd800 && x <= 0xdfff;
    const yHigh = y >= 0xd800 && y <= 0xdfff;
    if (xHigh !== yHigh && (xHigh ? y >= 0xe000 : x >= 0xe000)) return xHigh ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Two sort keys, part by part, ascending. */
export function compareKeys(a: readonly KeyPart[], b: readonly KeyPart[]): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    const x = a[i]!;
    const y = b[i]!;
    const order =
      typeof x === "number" && typeof y === "number" ? Math.sign(x - y) : compareText(String(x), String(y));
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** One shard's answer to a page request: its first `limit` rows after the cursor, and whether it has more. */
export interface ShardPage<Row> {
  readonly rows: readonly Row[];
  readonly more: boolean;
}

/** A merged page: its rows in the list's order and whether any shard has rows after the last one. */
export interface MergedPage<Row> {
  rows: Row[];
  more: boolean;
}

/**
 * Merges the pages every shard answered for the same cursor and `limit` into the list's page.
 *
 * @param order the list's order: `"asc"` or `"desc"` on `keyOf`, which must be total (end with an id).
 * @example mergePages(pages, 50, (send) => [send.id], "desc")
 */
export function mergePages<Row>(
  pages: readonly ShardPage<Row>[],
  limit: number,
  keyOf: (row: Row) => readonly KeyPart[],
  order: "asc" | "desc",
): MergedPage<Row> {
  const sign = order === "asc" ? 1 : -1;
  const all = pages.flatMap((page) => page.rows);
  all.sort((a, b) => sign * compareKeys(keyOf(a), keyOf(b)));
  return { rows: all.slice(0, limit), more: all.length > limit || pages.some((page) => page.more) };
}

/**
 * Finds a row by an id that carries its customer's slot, asking the shards in `idShards` order: the
 * slot's shard (or two during a growth), then, for an id made before sharding, the others.
 *
 * @returns the row and the shard it is on, or null on every shard
 */
export async function findBySlot<Row>(
  env: Env,
  slot: number,
  find: (db: D1Database) => Promise<Row | null>,
): Promise<{ row: Row; shard: Shard } | null> {
  for (const shard of idShards(env, slot)) {
    const row = await find(shard.db);
    if (row !== null) return { row, shard };
  }
  return null;
}
