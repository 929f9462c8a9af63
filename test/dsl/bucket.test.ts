// Experiment bucketing: FNV-1a test vectors, weights honoured, and re-bucketing only as documented.
import { describe, expect, it } from "vitest";
import { assignVariant, bucketOf, fnv1a32, inHoldout } from "../../dsl/runtime/bucket";

const ids = Array.from({ length: 20_000 }, (_, i) => `cus_${i}`);

describe("experiment bucketing", () => {
  it("is FNV-1a 32-bit over UTF-8 bytes (published test vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
    expect(fnv1a32("é")).toBe(fnv1a32("\u00e9"));
    expect(bucketOf("variant", "spring_winback_copy", "cus_1")).toBe(2538);
    expect(bucketOf("holdout", "spring_winback_copy", "cus_1")).toBe(6656);
  });

  it("gives each variant its share of customers", () => {
    const variants = [
      { key: "a", weight: 70 },
      { key: "b", weight: 20 },
      { key: "c", weight: 10 },
    ];
    const counts = { a: 0, b: 0, c: 0 };
    for (const id of ids) counts[assignVariant("exp", id, variants)!.key as "a" | "b" | "c"]++;
    expect(counts.a / ids.length).toBeCloseTo(0.7, 1);
    expect(counts.b / ids.length).toBeCloseTo(0.2, 1);
    expect(counts.c / ids.length).toBeCloseTo(0.1, 1);
  });

  it("holds out the configured share, independently of the variants", () => {
    const held = ids.filter((id) => inHoldout("exp", id, 10)).length;
    expect(held / ids.length).toBeCloseTo(0.1, 1);
    expect(ids.filter((id) => inHoldout("exp", id, 0))).toHaveLength(0);
  });

  it("moving weights 50/50 → 60/40 moves only the customers between the old and new boundary", () => {
    const before = [
      { key: "a", weight: 50 },
      { key: "b", weight: 50 },
    ];
    const after = [
      { key: "a", weight: 60 },
      { key: "b", weight: 40 },
    ];
    const moved = ids.filter(
      (id) => assignVariant("exp", id, before)!.key !== assignVariant("exp", id, after)!.key,
    );
    expect(moved.every((id) => assignVariant("exp", id, before)!.key === "b")).toBe(true);
    expect(moved.length / ids.length).toBeCloseTo(0.1, 1);
  });

  it("raising the holdout only adds customers to it", () => {
    const at10 = new Set(ids.filter((id) => inHoldout("exp", id, 10)));
    const at15 = ids.filter((id) => inHoldout("exp", id, 15));
    expect([...at10].every((id) => at15.includes(id))).toBe(true);
  });

  it("is stable across calls and differs across experiments", () => {
    const variants = [
      { key: "a", weight: 1 },
      { key: "b", weight: 1 },
    ];
    const first = ids.slice(0, 200).map((id) => assignVariant("one", id, variants)!.key);
    expect(ids.slice(0, 200).map((id) => assignVariant("one", id, variants)!.key)).toEqual(first);
    expect(ids.slice(0, 200).map((id) => assignVariant("two", id, variants)!.key)).not.toEqual(first);
  });
});
