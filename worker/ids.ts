/**
 * Sortable ids, the one way the Worker makes them: a prefix, the creation time as 12 hex digits of
 * epoch ms, then 16 hex digits that keep ids of one millisecond apart. Ids of one kind sort by
 * creation, so they serve as keyset cursors (GET /v1/sends) and time bounds (a frequency cap's
 * window start); the random part makes them unguessable enough to stand in an accept link.
 *
 * - `dec_`: decisions: time + 3 digits of the customer's slot + 13 random digits.
 * - `snd_`: sends: time + 4 digits of the send's position in its enqueue call + 3 digits of the
 *   customer's slot + 9 random digits (so one call's sends sort in request order); the idempotency key
 *   every channel passes on.
 *
 * The slot (worker/db/shards.ts) lets a route that is given only a decision or send id find the
 * customer's shard without a lookup (`idSlot`). Ids made before sharding carry random digits there;
 * a lookup that misses on the slot's shard asks the others (worker/db/shard-reads.ts).
 * - `run_`: campaign runs: time + position in the claim + 12 random digits.
 */

/** The kinds of sortable id, by prefix. */
export type IdPrefix = "dec" | "snd" | "run";

const TIME_DIGITS = 12;
const TAIL_DIGITS = 16;

/**
 * A new id created at `now` (epoch ms: the decision's, send's or tick's time, not the wall clock).
 * With a `sequence`, its low 16 bits come before the random part, so ids made by one call sort in
 * the order they were made.
 *
 * @example sortableId("snd", 1772353800000, 2) // "snd_019ca884c7400002" + 12 random hex digits
 */
export function sortableId(prefix: IdPrefix, now: number, sequence?: number, slot?: number): string {
  const position = sequence === undefined ? "" : hex(sequence & 0xffff, 4);
  const placed = slot === undefined ? "" : hex(slot & 0xfff, SLOT_DIGITS);
  const randomDigits = TAIL_DIGITS - position.length - placed.length;
  const random = crypto.getRandomValues(new Uint8Array(Math.ceil(randomDigits / 2)));
  let suffix = "";
  for (const byte of random) suffix += hex(byte, 2);
  return `${sortableIdFloor(prefix, now)}${position}${placed}${suffix.slice(0, randomDigits)}`;
}

const SLOT_DIGITS = 3;

/**
 * The customer slot a decision or send id carries (worker/db/shards.ts): 3 hex digits after the time
 * (and, in a send id, after its position).
 */
export function idSlot(id: string): number {
  const start = id.indexOf("_") + 1 + TIME_DIGITS + (id.startsWith("snd_") ? 4 : 0);
  return Number.parseInt(id.slice(start, start + SLOT_DIGITS), 16);
}

/** The smallest id of a kind created at or after `at`: a keyset bound for "created since". */
export function sortableIdFloor(prefix: IdPrefix, at: number): string {
  return `${prefix}_${hex(Math.max(0, Math.floor(at)), TIME_DIGITS).slice(-TIME_DIGITS)}`;
}

/** Whether `text` has the shape of an id of that kind (a malformed one is a 404 without a query). */
export function isSortableId(prefix: IdPrefix, text: string): boolean {
  return ID_SHAPE[prefix].test(text);
}

// prefix + "_" + TIME_DIGITS + TAIL_DIGITS hex digits.
const ID_SHAPE: Readonly<Record<IdPrefix, RegExp>> = {
  dec: /^dec_[0-9a-f]{28}$/,
  snd: /^snd_[0-9a-f]{28}$/,
  run: /^run_[0-9a-f]{28}$/,
};

/** A new decision id created at `now` (the decision's time) for a customer in `slot`. */
export function newDecisionId(now: number, slot: number): string {
  return sortableId("dec", now, undefined, slot);
}

/** Whether `text` has the shape of a decision id. */
export function isDecisionId(text: string): boolean {
  return isSortableId("dec", text);
}

/** A new send id created at `now`, the `sequence`-th of its enqueue call, for a customer in `slot`. */
export function newSendId(now: number, sequence: number, slot: number): string {
  return sortableId("snd", now, sequence, slot);
}

/** Whether `text` has the shape of a send id (pagination cursors are validated with it). */
export function isSendId(text: string): boolean {
  return isSortableId("snd", text);
}

/** A new campaign run id claimed at `now`, the `sequence`-th of its claim. */
export function newRunId(now: number, sequence = 0): string {
  return sortableId("run", now, sequence);
}

function hex(value: number, digits: number): string {
  return value.toString(16).padStart(digits, "0");
}
