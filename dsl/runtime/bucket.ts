/**
 * Experiment bucketing: which variant a customer sees and whether they are held out, as a pure
 * function of (experiment key, customer id). The decision API at the edge and the campaign runner
 * both call this module, so a customer lands in the same variant everywhere and on every run.
 *
 * Stage: runtime (used by dsl/runtime/decide.ts and dsl/runtime/programmes.ts). Synchronous and
 * allocation-free, since decisions call it on every request.
 *
 * - The point: SHA-256 of the UTF-8 text `kind + ":" + key + ":" + customerId` (kind `holdout` or
 *   `variant`), its first 52 bits read as an integer x, and `point = floor(x * 10000 / 2^52)`, a
 *   number in [0, 10000). In Python:
 *   `int(hashlib.sha256(b"variant:spring_winback_copy:cus_1").hexdigest()[:13], 16) * 10000 >> 52`.
 * - Holdout: `holdout point < holdoutPercent * 100` (at most two decimals: 12.5% is 1250 points).
 * - Variant: variants own consecutive ranges of the 10,000 variant points in rule order, each
 *   `weight / totalWeight` wide; the first whose cumulative range holds the point wins (integer
 *   comparison: `point * totalWeight < cumulativeWeight * 10000`).
 *
 * Why SHA-256 and the top bits: every bit of a SHA-256 digest depends on every input bit, so the
 * points of one customer in two experiments (or in one experiment's holdout and its variants) are
 * independent draws. The earlier FNV-1a 32-bit `% 10000` was not: FNV-1a mixes its last bytes
 * weakly into the low bits, and an even modulus reads exactly those, so two 50/50 experiments over
 * `cus_1 … cus_1000000` agreed 50.44% of the time after A = a against 49.58% after A = b
 * (p = 8e-18). GrowthBook moved off plain FNV for the same reason (hashing v2); Statsig buckets by
 * SHA-256 of salt and unit id, as this does. test/dsl/bucket-independence.test.ts measures it.
 * Experiment keys are lower_snake_case, so the text splits back into its three parts one way only.
 *
 * Re-bucketing: the hash never changes, so a customer keeps their points forever. Changing weights
 * moves range boundaries: only customers whose point lies between an old and a new boundary change
 * variant (50/50 → 60/40 moves the 10% of points in [5000, 6000)). Reordering, adding or removing
 * variants shifts every later range. The holdout uses its own salt, so changing variant weights
 * never moves anyone in or out of the holdout, and raising the holdout from 10% to 15% only adds
 * customers (points [1000, 1500)). Renaming the experiment `key` re-buckets everyone.
 */

import { sha256Words } from "../rules/sha256";

/** Points per experiment: holdout and weights resolve to 0.01%. */
export const BUCKETS = 10_000;

const encoder = new TextEncoder();
// Reused across calls (bucketing is synchronous); grown when a customer id is unusually long.
let text = new Uint8Array(256);
const digest = new Uint32Array(8);

/**
 * The customer's point in [0, 10000) for one kind of draw (`holdout` or `variant`) in one
 * experiment: uniform, and independent across experiment keys and across the two kinds.
 *
 * @example bucketOf("variant", "spring_winback_copy", "cus_1") // 4017
 */
export function bucketOf(kind: "variant" | "holdout", experimentKey: string, customerId: string): number {
  const message = `${kind}:${experimentKey}:${customerId}`;
  // UTF-8 takes at most three bytes per UTF-16 code unit.
  if (text.length < message.length * 3) text = new Uint8Array(message.length * 3);
  const { written } = encoder.encodeInto(message, text);
  sha256Words(text, written, digest);
  // floor(x * BUCKETS / 2^52) for x = the digest's first 52 bits, split so every step is exact in
  // doubles: x = high * 2^20 + low, and the low part's carry is floored before adding.
  const high = digest[0]!;
  const low = digest[1]! >>> 12;
  return Math.floor((high * BUCKETS + Math.floor((low * BUCKETS) / 2 ** 20)) / 2 ** 32);
}

/** Whether the customer is in the experiment's holdout (gets nothing, measured for lift). */
export function inHoldout(experimentKey: string, customerId: string, holdoutPercent: number): boolean {
  const threshold = Math.round(holdoutPercent * 100);
  return bucketOf("holdout", experimentKey, customerId) < threshold;
}

/**
 * The variant a customer is assigned, from `variants` in rule order with integer weights.
 * Returns null only when every weight is zero (the checker rejects that).
 *
 * @example assignVariant("spring_winback_copy", "cus_42", [{ key: "a", weight: 50 }, { key: "b", weight: 50 }])
 */
export function assignVariant<V extends { readonly key: string; readonly weight: number }>(
  experimentKey: string,
  customerId: string,
  variants: readonly V[],
): V | null {
  const totalWeight = variants.reduce((sum, variant) => sum + variant.weight, 0);
  if (totalWeight <= 0) return null;
  const point = bucketOf("variant", experimentKey, customerId);
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (variant.weight > 0 && point * totalWeight < cumulative * BUCKETS) return variant;
  }
  return null;
}
