/**
 * Lift against the holdout: how much more often the customers a campaign treated converted than the
 * customers it held out, with a confidence interval, or a plain reason when the holdout is too small
 * to say anything.
 *
 * Stage: runtime, read-only arithmetic on counts. The metrics API and `rebound` call it with the
 * conversions and group sizes they counted; it reads nothing and keeps nothing. Pure, synchronous,
 * dependency-free and free of runtime code generation, so the Worker and Node run the same numbers.
 *
 * The methods are statsmodels' (`statsmodels.stats.proportion`, checked against Debian's
 * python3-statsmodels 0.13.5 by test/dsl/lift.test.ts), so the figures can be re-derived outside:
 * - absolute lift p1 − p2: Newcombe's hybrid score interval (Newcombe 1998, method 10), built from
 *   each group's Wilson score interval; `confint_proportions_2indep(..., compare="diff",
 *   method="newcomb")`.
 * - relative lift p1 / p2 − 1: the Katz log risk-ratio interval, `compare="ratio", method="log"`
 *   (no 0.5 added to the counts), shifted by −1.
 * - the critical value z = Φ⁻¹(1 − α/2) from Wichura's AS241, as scipy's `norm.isf(α / 2)`.
 * docs/metrics.md ("Lift against the holdout") says how to read the result.
 */

/** Conversions out of the customers in one group (treated or held out). */
export interface GroupCounts {
  readonly conversions: number;
  readonly n: number;
}

/** The two groups a campaign's lift compares. */
export interface LiftGroups {
  readonly treated: GroupCounts;
  readonly holdout: GroupCounts;
}

export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface LiftEstimate<Method extends string> extends Interval {
  /** The point estimate: a difference of rates (absolute) or a ratio minus one (relative). */
  readonly lift: number;
  readonly method: Method;
}

export interface LiftOptions {
  /** Two-sided confidence level of the intervals, in (0, 1). Default 0.95. */
  readonly confidence?: number;
  /** Fewest customers each group needs before a lift is reported. Default 30. */
  readonly minGroupSize?: number;
}

/** What `liftAgainstHoldout` answers. Rates are `null` for an empty group. */
export interface LiftResult {
  readonly treated: GroupCounts;
  readonly holdout: GroupCounts;
  readonly treated_rate: number | null;
  readonly holdout_rate: number | null;
  readonly confidence: number;
  /** Treated rate minus holdout rate, in rate units (0.04 is four percentage points). `null` when not `enough`. */
  readonly absolute: LiftEstimate<"newcombe"> | null;
  /** Treated rate / holdout rate − 1 (0.5 is "converted 50% more often"). `null` when not `enough` or undefined. */
  readonly relative: LiftEstimate<"log-risk-ratio"> | null;
  /** Why `relative` is `null` while `absolute` is not (a group with no conversions). */
  readonly relative_why?: string;
  /** False when the groups are too small to say anything; `why` then says so in words. */
  readonly enough: boolean;
  readonly why?: string;
}

/** Defaults of `liftAgainstHoldout`, in one place. */
export const LIFT_DEFAULTS = Object.freeze({
  confidence: 0.95,
  /**
   * Below 30 customers a group's own rate is uncertain by up to ±17 percentage points at 95%
   * (the Wilson half-width at 15 of 30), wider than nearly any effect a campaign has, and the
   * log risk-ratio interval's normal approximation is poor. Past this floor the intervals are
   * honest at any size, so a wide interval is the answer and is shown as it is.
   */
  minGroupSize: 30,
});

// Wichura (1988), Algorithm AS241 PPND16: Φ⁻¹ to about 1e-16 relative, in three regions of p.
const CENTRAL_NUMERATOR = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987,
  67265.7709270087, 33430.57558358813, 2509.0809287301227,
] as const;
const CENTRAL_DENOMINATOR = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271,
  28729.085735721943, 5226.495278852854,
] as const;
const INTERMEDIATE_NUMERATOR = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684,
  0.2417807251774506, 0.022723844989269184, 0.0007745450142783414,
] as const;
const INTERMEDIATE_DENOMINATOR = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
] as const;
const TAIL_NUMERATOR = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
] as const;
const TAIL_DENOMINATOR = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133,
  1.8463183175100548e-5, 1.421511758316446e-7, 2.0442631033899397e-15,
] as const;

/** c0 + c1·x + … + c7·x⁷ by Horner's rule. */
function polynomial(coefficients: readonly number[], x: number): number {
  let sum = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) sum = sum * x + coefficients[i]!;
  return sum;
}

/**
 * The standard normal quantile Φ⁻¹(p): the z with P(Z ≤ z) = p. Wichura's AS241, accurate to about
 * 1e-16 relative over (0, 1) (the test checks it against scipy's `norm.ppf` from 1e-300 to 1 − 2⁻⁵³).
 * Returns −Infinity at 0, Infinity at 1.
 *
 * @example normalQuantile(0.975) // 1.959963984540054
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * polynomial(CENTRAL_NUMERATOR, r)) / polynomial(CENTRAL_DENOMINATOR, r);
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let z: number;
  if (r <= 5) {
    r -= 1.6;
    z = polynomial(INTERMEDIATE_NUMERATOR, r) / polynomial(INTERMEDIATE_DENOMINATOR, r);
  } else {
    r -= 5;
    z = polynomial(TAIL_NUMERATOR, r) / polynomial(TAIL_DENOMINATOR, r);
  }
  return q < 0 ? -z : z;
}

/**
 * The two-sided critical value for a confidence level: z = Φ⁻¹(1 − α/2) with α = 1 − confidence,
 * computed as −Φ⁻¹(α/2) like scipy's `norm.isf(alpha / 2)`, which keeps precision at high levels.
 *
 * @example criticalValue(0.95) // 1.959963984540054
 */
export function criticalValue(confidence: number): number {
  checkConfidence(confidence);
  return -normalQuantile((1 - confidence) / 2);
}

/**
 * Wilson's score interval for one proportion, as statsmodels' `proportion_confint(method="wilson")`
 * (not clipped: with 0 or n conversions the bound lands on 0 or 1 up to rounding).
 *
 * @example wilsonInterval({ conversions: 30, n: 100 }, 0.95) // { low: 0.2189…, high: 0.3958… }
 */
export function wilsonInterval(group: GroupCounts, confidence: number): Interval {
  checkGroup("group", group);
  if (group.n === 0) throw new RangeError("a Wilson interval needs at least one member in the group");
  const z = criticalValue(confidence);
  const { conversions, n } = group;
  const rate = conversions / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const center = (rate + z2 / (2 * n)) / denominator;
  const halfWidth = (z * Math.sqrt((rate * (1 - rate)) / n + z2 / (4 * n * n))) / denominator;
  return { low: center - halfWidth, high: center + halfWidth };
}

/**
 * Newcombe's hybrid score interval for the difference of two proportions p1 − p2 (Newcombe 1998,
 * method 10), as statsmodels' `confint_proportions_2indep(compare="diff", method="newcomb")`:
 * with Wilson intervals (l1, u1) and (l2, u2),
 *   low  = (p1 − p2) − √((p1 − l1)² + (u2 − p2)²)
 *   high = (p1 − p2) + √((p2 − l2)² + (u1 − p1)²)
 */
export function newcombeInterval(first: GroupCounts, second: GroupCounts, confidence: number): Interval {
  const wilson1 = wilsonInterval(first, confidence);
  const wilson2 = wilsonInterval(second, confidence);
  const p1 = first.conversions / first.n;
  const p2 = second.conversions / second.n;
  const difference = p1 - p2;
  return {
    low: difference - Math.sqrt((p1 - wilson1.low) ** 2 + (wilson2.high - p2) ** 2),
    high: difference + Math.sqrt((p2 - wilson2.low) ** 2 + (wilson1.high - p1) ** 2),
  };
}

/**
 * The risk ratio p1 / p2 with Katz's interval on the log scale, as statsmodels'
 * `confint_proportions_2indep(compare="ratio", method="log")`:
 *   exp(ln(p1 / p2) ± z·√(1/c1 − 1/n1 + 1/c2 − 1/n2))
 * `null` when either group has no conversions: the log of a zero ratio, or of an infinite one, has no
 * interval (statsmodels divides by zero there and answers NaN or Infinity).
 */
export function katzRiskRatioInterval(
  first: GroupCounts,
  second: GroupCounts,
  confidence: number,
): (Interval & { readonly ratio: number }) | null {
  checkGroup("first", first);
  checkGroup("second", second);
  const z = criticalValue(confidence);
  if (first.conversions === 0 || second.conversions === 0) return null;
  const ratio = first.conversions / first.n / (second.conversions / second.n);
  const standardError = Math.sqrt(
    1 / first.conversions - 1 / first.n + 1 / second.conversions - 1 / second.n,
  );
  const logRatio = Math.log(ratio);
  return {
    ratio,
    low: Math.exp(logRatio - z * standardError),
    high: Math.exp(logRatio + z * standardError),
  };
}

/**
 * Lift of the treated group over the holdout, with the counts beside each rate. When the groups
 * are too small to say anything (an empty group, fewer than `minGroupSize` customers in either,
 * or no conversions in either) `enough` is false, both lifts are `null` and `why` says which.
 * Throws a RangeError for counts that cannot be (negative, fractional, more conversions than
 * customers) or a confidence outside (0, 1).
 *
 * @example
 * liftAgainstHoldout({ treated: { conversions: 30, n: 100 }, holdout: { conversions: 20, n: 100 } })
 * // absolute: { lift: 0.1, low: -0.0212…, high: 0.2163…, method: "newcombe" }
 * // relative: { lift: 0.5, low: -0.0840…, high: 1.4564…, method: "log-risk-ratio" }
 */
export function liftAgainstHoldout(groups: LiftGroups, options: LiftOptions = {}): LiftResult {
  const { treated, holdout } = groups;
  checkGroup("treated", treated);
  checkGroup("holdout", holdout);
  const confidence = options.confidence ?? LIFT_DEFAULTS.confidence;
  checkConfidence(confidence);
  const minGroupSize = options.minGroupSize ?? LIFT_DEFAULTS.minGroupSize;
  if (!Number.isSafeInteger(minGroupSize) || minGroupSize < 1) {
    throw new RangeError(`minGroupSize must be a whole number of at least 1, got ${minGroupSize}`);
  }

  const counts = {
    treated: { conversions: treated.conversions, n: treated.n },
    holdout: { conversions: holdout.conversions, n: holdout.n },
    treated_rate: treated.n === 0 ? null : treated.conversions / treated.n,
    holdout_rate: holdout.n === 0 ? null : holdout.conversions / holdout.n,
    confidence,
  };
  const why = notEnoughReason(treated, holdout, minGroupSize);
  if (why !== undefined) return { ...counts, absolute: null, relative: null, enough: false, why };

  const difference = newcombeInterval(treated, holdout, confidence);
  const absolute: LiftEstimate<"newcombe"> = {
    lift: treated.conversions / treated.n - holdout.conversions / holdout.n,
    low: difference.low,
    high: difference.high,
    method: "newcombe",
  };
  const ratio = katzRiskRatioInterval(treated, holdout, confidence);
  if (ratio === null) {
    const relative_why =
      holdout.conversions === 0
        ? `no conversions in the holdout (0 of ${holdout.n}): lift relative to a zero rate is undefined`
        : `no conversions in the treated group (0 of ${treated.n}): the log risk-ratio interval needs a conversion in each group`;
    return { ...counts, absolute, relative: null, relative_why, enough: true };
  }
  const relative: LiftEstimate<"log-risk-ratio"> = {
    lift: ratio.ratio - 1,
    low: ratio.low - 1,
    high: ratio.high - 1,
    method: "log-risk-ratio",
  };
  return { ...counts, absolute, relative, enough: true };
}

/** The plain reason the groups cannot say anything, or undefined when they can. */
function notEnoughReason(
  treated: GroupCounts,
  holdout: GroupCounts,
  minGroupSize: number,
): string | undefined {
  if (holdout.n === 0) return "the holdout is empty: there is nothing to compare against";
  if (treated.n === 0) return "no customers were treated: there is nothing to compare";
  for (const [name, group] of [
    ["holdout", holdout],
    ["treated group", treated],
  ] as const) {
    if (group.n < minGroupSize) {
      return `the ${name} has ${group.n} ${group.n === 1 ? "customer" : "customers"}; a lift needs at least ${minGroupSize} in each group`;
    }
  }
  if (treated.conversions === 0 && holdout.conversions === 0) {
    return `no conversions in either group yet (0 of ${treated.n} treated, 0 of ${holdout.n} held out)`;
  }
  return undefined;
}

function checkGroup(name: string, group: GroupCounts): void {
  const { conversions, n } = group;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${name}.n must be a whole number of customers, got ${n}`);
  }
  if (!Number.isSafeInteger(conversions) || conversions < 0) {
    throw new RangeError(`${name}.conversions must be a whole number, got ${conversions}`);
  }
  if (conversions > n) {
    throw new RangeError(`${name}.conversions (${conversions}) exceeds ${name}.n (${n})`);
  }
}

function checkConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`confidence must be between 0 and 1 (0.95 for 95%), got ${confidence}`);
  }
}
