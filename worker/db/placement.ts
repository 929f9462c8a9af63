/**
 * Placement arithmetic, pure and without bindings, so Node tools (npm start, the benchmarks) compute
 * the same placement as the Worker: a customer id's slot, and a slot's shard under a shard count.
 * worker/db/shards.ts explains the scheme and re-exports these.
 */

/** Slots customers hash into; a slot moves between shards whole. Fixed forever: ids carry it. */
export const SLOT_COUNT = 4096;

const encoder = new TextEncoder();

/**
 * The slot of a customer id (0 … 4095): FNV-1a 32 over the id's UTF-8 bytes, mixed by MurmurHash3's
 * finaliser so that the low bits depend on every byte. test/worker/shards.test.ts checks it against
 * reference values computed by an independent implementation (test/fixtures/shards/slots.py).
 */
export function customerSlot(customerId: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(customerId)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % SLOT_COUNT;
}

const MASK_64 = (1n << 64n) - 1n;

/** Jump consistent hash: the bucket (0 … buckets − 1) of a 64-bit key. */
export function jumpHash(key: number | bigint, buckets: number): number {
  let k = BigInt(key) & MASK_64;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & MASK_64;
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(k >> 33n) + 1));
  }
  return b;
}

const slotTables = new Map<number, Uint8Array>();

/** The shard of every slot under `count` shards, computed once per count. */
function slotTable(count: number): Uint8Array {
  let table = slotTables.get(count);
  if (!table) {
    table = new Uint8Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot += 1) table[slot] = jumpHash(slot, count);
    slotTables.set(count, table);
  }
  return table;
}

/** The shard a slot is placed on under `count` shards. */
export function shardOfSlot(slot: number, count: number): number {
  return slotTable(count)[slot] ?? 0;
}

/** The shard a customer id is placed on under `count` shards (ignoring any growth in progress). */
export function placedShard(customerId: string, count: number): number {
  return shardOfSlot(customerSlot(customerId), count);
}

/** The binding name of shard `index`. */
export function shardBinding(index: number): string {
  return index === 0 ? "DB" : `DB_${index}`;
}
