// Experiment bucketing: the hash is SHA-256 (checked against node:crypto, an independent
// implementation), weights are honoured, and re-bucketing happens only as documented.
// test/dsl/bucket-independence.test.ts measures independence across experiments.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sha256Hex, sha256Words } from "../../dsl/rules/sha256";
import { assignVariant, BUCKETS, bucketOf, inHoldout } from "../../dsl/runtime/bucket";

const ids = Array.from({ length: 20_000 }, (_, i) => `cus_${i}`);

/** The documented formula, computed with node:crypto and BigInt: the first 52 bits, scaled. */
function referencePoint(kind: string, experimentKey: string, customerId: string): number {
  const hex = createHash("sha256").update(`${kind}:${experimentKey}:${customerId}`, "utf8").digest("hex");
  return Number((BigInt(`0x${hex.slice(0, 13)}`) * BigInt(BUCKETS)) >> 52n);
}

describe("experiment bucketing", () => {
  it("is SHA-256 (FIPS 180-2 test vectors), one block and two", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    const bytes = new TextEncoder().encode("abc");
    expect(sha256Words(bytes)[0]).toBe(0xba7816bf);
  });

  it("gives every point the documented formula computes (the same as Python's hashlib)", () => {
    // python3 -c "import hashlib; print(int(hashlib.sha256(b'variant:spring_winback_copy:cus_1').hexdigest()[:13], 16) * 10000 >> 52)"
    expect(bucketOf("variant", "spring_winback_copy", "cus_1")).toBe(9700);
    expect(bucketOf("holdout", "spring_winback_copy", "cus_1")).toBe(5288);
    const odd = ["", "cus_é", "客户_42", "cus_🎉", "x".repeat(55), "x".repeat(56), "y".repeat(1000), "z:z"];
    for (const id of [...ids.slice(0, 2000), ...odd]) {
      for (const kind of ["variant", "holdout"] as const) {
        expect(bucketOf(kind, "spring_winback_copy", id), `${kind} ${id}`).toBe(
          referencePoint(kind, "spring_winback_copy", id),
        );
      }
    }
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

  it("holds out the configured share", () => {
    const held = ids.filter((id) => inHoldout("exp", id, 10)).length;
    expect(held / ids.length).toBeCloseTo(0.1, 1);
    expect(ids.filter((id) => inHoldout("exp", id, 0))).toHaveLength(0);
    expect(ids.filter((id) => inHoldout("exp", id, 100))).toHaveLength(ids.length);
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
    const at10 = ids.filter((id) => inHoldout("exp", id, 10));
    const at15 = new Set(ids.filter((id) => inHoldout("exp", id, 15)));
    expect(at10.every((id) => at15.has(id))).toBe(true);
    expect(at15.size).toBeGreaterThan(at10.length);
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
