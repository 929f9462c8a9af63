// Lift against the holdout (dsl/runtime/lift.ts) against an independent implementation: every figure
// in lift-reference.json was computed by Debian's python3-statsmodels 0.13.5 (scipy 1.10.1, numpy
// 1.24.2, Python 3.11.2) with
//
//   /usr/bin/python3 test/dsl/lift-reference.py > test/dsl/lift-reference.json \
//     && npx biome format --write test/dsl/lift-reference.json
//
// (the versions and the command are also recorded inside the JSON). CI needs no Python: it reads the
// JSON. Tolerance: 1e-9, absolute for figures up to 1 and relative above (a risk ratio's upper bound
// can be in the hundreds, where 1e-9 absolute would ask for more digits than a double holds).

import { describe, expect, it } from "vitest";
import {
  criticalValue,
  type GroupCounts,
  katzRiskRatioInterval,
  LIFT_DEFAULTS,
  liftAgainstHoldout,
  newcombeInterval,
  normalQuantile,
  wilsonInterval,
} from "../../dsl/runtime/lift";
import reference from "./lift-reference.json";

type ReferenceNumber = number | "nan" | "inf" | "-inf";
interface ReferenceCase {
  name: string;
  treated: GroupCounts;
  holdout: GroupCounts;
  confidence: number;
  z: ReferenceNumber;
  wilson_treated: ReferenceNumber[];
  wilson_holdout: ReferenceNumber[];
  newcombe_diff: ReferenceNumber[];
  log_ratio: ReferenceNumber[];
}

const cases = reference.cases as ReferenceCase[];
const TOLERANCE = 1e-9;

function finite(value: ReferenceNumber | undefined): number {
  if (typeof value !== "number") throw new Error(`expected a finite reference figure, got ${value}`);
  return value;
}

function expectClose(actual: number, expected: number, what: string): void {
  const allowed = TOLERANCE * Math.max(1, Math.abs(expected));
  expect(Math.abs(actual - expected), `${what}: ${actual} vs statsmodels ${expected}`).toBeLessThanOrEqual(
    allowed,
  );
}

describe("the reference data", () => {
  it("records the command and the versions that produced it", () => {
    expect(reference.generated_by).toContain("/usr/bin/python3 test/dsl/lift-reference.py");
    expect(reference.statsmodels).toBe("0.13.5+dfsg");
    expect(reference.scipy).toBe("1.10.1");
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
});

describe("normal quantile (Wichura AS241) against scipy's norm.ppf", () => {
  for (const { p, z } of reference.normal_quantiles) {
    it(`Φ⁻¹(${p})`, () => {
      expectClose(normalQuantile(p), finite(z as ReferenceNumber), `Φ⁻¹(${p})`);
    });
  }

  it("is −∞ and +∞ at the ends and refuses probabilities outside [0, 1]", () => {
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
    expect(() => normalQuantile(Number.NaN)).toThrow(RangeError);
  });
});

describe.each(cases)("statsmodels case: $name", (row) => {
  const { treated, holdout, confidence } = row;

  it("critical value z = norm.isf(α/2)", () => {
    expectClose(criticalValue(confidence), finite(row.z), "z");
  });

  it("Wilson interval of each group", () => {
    const wilsonTreated = wilsonInterval(treated, confidence);
    const wilsonHoldout = wilsonInterval(holdout, confidence);
    expectClose(wilsonTreated.low, finite(row.wilson_treated[0]), "treated low");
    expectClose(wilsonTreated.high, finite(row.wilson_treated[1]), "treated high");
    expectClose(wilsonHoldout.low, finite(row.wilson_holdout[0]), "holdout low");
    expectClose(wilsonHoldout.high, finite(row.wilson_holdout[1]), "holdout high");
  });

  it("Newcombe hybrid score interval of the difference", () => {
    const interval = newcombeInterval(treated, holdout, confidence);
    expectClose(interval.low, finite(row.newcombe_diff[0]), "diff low");
    expectClose(interval.high, finite(row.newcombe_diff[1]), "diff high");
  });

  it("Katz log risk-ratio interval, or none where statsmodels' has a non-finite bound", () => {
    const interval = katzRiskRatioInterval(treated, holdout, confidence);
    const [low, high] = row.log_ratio;
    if (typeof low !== "number" || typeof high !== "number") {
      expect(interval).toBeNull();
      expect(treated.conversions === 0 || holdout.conversions === 0).toBe(true);
      return;
    }
    expect(interval).not.toBeNull();
    expectClose(interval!.low, low, "ratio low");
    expectClose(interval!.high, high, "ratio high");
  });

  it("liftAgainstHoldout reports the same figures whenever it reports any", () => {
    const result = liftAgainstHoldout({ treated, holdout }, { confidence });
    expect(result.treated).toEqual(treated);
    expect(result.holdout).toEqual(holdout);
    expect(result.treated_rate).toBe(treated.conversions / treated.n);
    expect(result.holdout_rate).toBe(holdout.conversions / holdout.n);
    if (!result.enough) {
      expect(result.absolute).toBeNull();
      expect(result.relative).toBeNull();
      expect(result.why).toMatch(/\w/);
      return;
    }
    expect(result.absolute!.method).toBe("newcombe");
    expect(result.absolute!.lift).toBe(treated.conversions / treated.n - holdout.conversions / holdout.n);
    expectClose(result.absolute!.low, finite(row.newcombe_diff[0]), "absolute low");
    expectClose(result.absolute!.high, finite(row.newcombe_diff[1]), "absolute high");
    const [low, high] = row.log_ratio;
    if (typeof low !== "number" || typeof high !== "number") {
      expect(result.relative).toBeNull();
      expect(result.relative_why).toMatch(/no conversions/);
      return;
    }
    expect(result.relative!.method).toBe("log-risk-ratio");
    expectClose(result.relative!.low, low - 1, "relative low");
    expectClose(result.relative!.high, high - 1, "relative high");
    expect(result.relative!.lift).toBeGreaterThanOrEqual(result.relative!.low);
    expect(result.relative!.lift).toBeLessThanOrEqual(result.relative!.high);
  });
});

describe("a hand-computed example: 30 of 100 treated converted, 20 of 100 held out, 95%", () => {
  // z = Φ⁻¹(0.975) = 1.959964, z² = 3.841459, z²/n = 0.0384146, 1 + z²/n = 1.0384146.
  //
  // Wilson, treated 30/100: centre = (0.30 + 0.0192073) / 1.0384146 = 0.307399
  //   half-width = 1.959964 · √(0.30·0.70/100 + 3.841459/40000) / 1.0384146
  //              = 1.959964 · √0.0021960 / 1.0384146 = 1.959964 · 0.0468619 / 1.0384146 = 0.088450
  //   → [0.218949, 0.395849]
  // Wilson, holdout 20/100: centre = (0.20 + 0.0192073) / 1.0384146 = 0.211098
  //   half-width = 1.959964 · √(0.20·0.80/100 + 0.0000960) / 1.0384146 = 1.959964 · 0.0411830 / 1.0384146
  //              = 0.077731 → [0.133367, 0.288829]
  // Newcombe, lift 0.30 − 0.20 = 0.10:
  //   low  = 0.10 − √((0.30 − 0.218949)² + (0.288829 − 0.20)²) = 0.10 − √(0.0065693 + 0.0078906)
  //        = 0.10 − 0.120249 = −0.020249
  //   high = 0.10 + √((0.20 − 0.133367)² + (0.395849 − 0.30)²) = 0.10 + √(0.0044400 + 0.0091870)
  //        = 0.10 + 0.116735 = 0.216735
  // Katz: ratio 0.30 / 0.20 = 1.5; SE of ln ratio = √(1/30 − 1/100 + 1/20 − 1/100) = √0.0633333 = 0.251661
  //   z · SE = 0.493247, e^0.493247 = 1.637625
  //   ratio in [1.5 / 1.637625, 1.5 · 1.637625] = [0.915961, 2.456437]
  //   relative lift +50%, in [−8.4040%, +145.6437%]
  // The steps round to 6 or 7 digits, so the checks below allow 5e-6.
  const result = liftAgainstHoldout({
    treated: { conversions: 30, n: 100 },
    holdout: { conversions: 20, n: 100 },
  });

  it("gives the rates beside their counts", () => {
    expect(result.confidence).toBe(0.95);
    expect(result.treated).toEqual({ conversions: 30, n: 100 });
    expect(result.treated_rate).toBe(0.3);
    expect(result.holdout).toEqual({ conversions: 20, n: 100 });
    expect(result.holdout_rate).toBe(0.2);
    expect(result.enough).toBe(true);
    expect(result.why).toBeUndefined();
  });

  it("gives the absolute lift with Newcombe's interval", () => {
    expect(result.absolute!.lift).toBeCloseTo(0.1, 12);
    expect(result.absolute!.low).toBeCloseTo(-0.020249, 5);
    expect(result.absolute!.high).toBeCloseTo(0.216735, 5);
  });

  it("gives the relative lift with the log risk-ratio interval", () => {
    expect(result.relative!.lift).toBeCloseTo(0.5, 12);
    expect(result.relative!.low).toBeCloseTo(0.915961 - 1, 5);
    expect(result.relative!.high).toBeCloseTo(2.456437 - 1, 5);
  });

  it("the interval includes no lift at all, so 95% confidence cannot tell this campaign from none", () => {
    expect(result.absolute!.low).toBeLessThan(0);
    expect(result.relative!.low).toBeLessThan(0);
  });
});

describe("when the groups are too small to say anything", () => {
  const lift = (treated: GroupCounts, holdout: GroupCounts, minGroupSize?: number) =>
    liftAgainstHoldout({ treated, holdout }, minGroupSize === undefined ? {} : { minGroupSize });

  it("an empty holdout says so and gives no rate for it", () => {
    const result = lift({ conversions: 40, n: 500 }, { conversions: 0, n: 0 });
    expect(result.enough).toBe(false);
    expect(result.holdout_rate).toBeNull();
    expect(result.treated_rate).toBe(0.08);
    expect(result.absolute).toBeNull();
    expect(result.relative).toBeNull();
    expect(result.why).toMatch(/holdout is empty/);
  });

  it("an empty treated group says so", () => {
    const result = lift({ conversions: 0, n: 0 }, { conversions: 3, n: 50 });
    expect(result.enough).toBe(false);
    expect(result.treated_rate).toBeNull();
    expect(result.why).toMatch(/no customers were treated/);
  });

  it(`a holdout under ${LIFT_DEFAULTS.minGroupSize} customers gives its size and the floor, not a number`, () => {
    const result = lift({ conversions: 40, n: 300 }, { conversions: 3, n: 29 });
    expect(result.enough).toBe(false);
    expect(result.absolute).toBeNull();
    expect(result.why).toBe("the holdout has 29 customers; a lift needs at least 30 in each group");
    expect(lift({ conversions: 1, n: 1 }, { conversions: 0, n: 1 }, 1).enough).toBe(true);
    expect(lift({ conversions: 40, n: 300 }, { conversions: 1, n: 1 }).why).toMatch(/has 1 customer;/);
  });

  it("a holdout of exactly the floor is enough", () => {
    const result = lift({ conversions: 40, n: 300 }, { conversions: 3, n: 30 });
    expect(result.enough).toBe(true);
    expect(result.absolute).not.toBeNull();
  });

  it("a small treated group says so too", () => {
    const result = lift({ conversions: 2, n: 12 }, { conversions: 30, n: 1000 });
    expect(result.why).toBe("the treated group has 12 customers; a lift needs at least 30 in each group");
  });

  it("no conversions in either group says so", () => {
    const result = lift({ conversions: 0, n: 200 }, { conversions: 0, n: 200 });
    expect(result.enough).toBe(false);
    expect(result.treated_rate).toBe(0);
    expect(result.holdout_rate).toBe(0);
    expect(result.why).toBe("no conversions in either group yet (0 of 200 treated, 0 of 200 held out)");
  });
});

describe("relative lift with a zero rate", () => {
  it("is null with a reason when the holdout converted no one, while the absolute lift stands", () => {
    const result = liftAgainstHoldout({
      treated: { conversions: 7, n: 200 },
      holdout: { conversions: 0, n: 200 },
    });
    expect(result.enough).toBe(true);
    expect(result.absolute!.lift).toBeCloseTo(0.035, 12);
    expect(result.relative).toBeNull();
    expect(result.relative_why).toBe(
      "no conversions in the holdout (0 of 200): lift relative to a zero rate is undefined",
    );
  });

  it("is null with a reason when the treated group converted no one", () => {
    const result = liftAgainstHoldout({
      treated: { conversions: 0, n: 200 },
      holdout: { conversions: 5, n: 200 },
    });
    expect(result.absolute!.lift).toBeCloseTo(-0.025, 12);
    expect(result.relative).toBeNull();
    expect(result.relative_why).toMatch(/^no conversions in the treated group \(0 of 200\)/);
  });
});

describe("bad input is refused with the field it is in", () => {
  const good = { conversions: 10, n: 100 };
  it.each([
    [
      { treated: { conversions: 12, n: 10 }, holdout: good },
      /treated\.conversions \(12\) exceeds treated\.n \(10\)/,
    ],
    [{ treated: good, holdout: { conversions: -1, n: 10 } }, /holdout\.conversions must be a whole number/],
    [{ treated: good, holdout: { conversions: 1, n: 10.5 } }, /holdout\.n must be a whole number/],
    [{ treated: { conversions: Number.NaN, n: 10 }, holdout: good }, /treated\.conversions/],
  ])("%o", (groups, message) => {
    expect(() => liftAgainstHoldout(groups)).toThrow(message);
  });

  it.each([0, 1, 95, -0.5, Number.NaN])("confidence %s", (confidence) => {
    expect(() => liftAgainstHoldout({ treated: good, holdout: good }, { confidence })).toThrow(
      /confidence must be between 0 and 1/,
    );
  });
});
