/**
 * Experiment bucketing: which variant a customer sees and whether they are held out, as a pure
 * function of (experiment key, customer id). The decision API at the edge and the campaign runner
 * both call this module, so a customer lands in the same variant everywhere and on every run.
 *
 * Stage: runtime (used by dsl/runtime/ruleset.ts). Integer arithmetic only: FNV-1a 32-bit over the UTF-8
 * bytes, with `Math.imul` and `>>> 0`, so every JavaScript engine gives the same numbers.
 *
 * - Holdout: `fnv1a32("holdout:" + key + ":" + customerId) % 10000 < holdoutPercent * 100`
 *   (holdout percentages have at most two decimals: 12.5 means 1250 of 10,000 buckets).
 * - Variant: `point = fnv1a32("variant:" + key + ":" + customerId) % 10000`; variants own
 *   consecutive ranges of the 10,000 points in rule order, each `weight / totalWeight` wide.
 *   The first variant whose cumulative range holds `point` wins (integer comparison:
 *   `point * totalWeight < cumulativeWeight * 10000`).
 *
 * Re-bucketing: the hashes never change, so a customer keeps their point forever. Changing weights
 * moves range boundaries: only customers whose point lies between an old and a new boundary change
 * variant (50/50 → 60/40 moves the 10% of points in [5000, 6000)). Reordering, adding or removing
 * variants shifts every later range. The holdout uses its own salt, so changing variant weights
 * never moves anyone in or out of the holdout, and raising the holdout from 10% to 15% only adds
 * customers (points [1000, 1500)). Renaming the experiment `key` re-buckets everyone.
 */

/** Buckets per experiment: holdout and weights resolve to 0.01%. */
export const BUCKETS = 10_000;

/**
 * FNV-1a, 32 bits, over the UTF-8 bytes of `text`. Test vectors: "" → 0x811c9dc5,
 * "a" → 0xe40c292c, "foobar" → 0xbf9cf968.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The customer's point in [0, 10000) for one salt of an experiment. */
export function bucketOf(salt: "variant" | "holdout", experimentKey: string, customerId: string): number {
  return fnv1a32(`${salt}:${experimentKey}:${customerId}`) % BUCKETS;
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
