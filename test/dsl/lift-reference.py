#!/usr/bin/python3
"""Reference figures for dsl/runtime/lift.ts, computed by an independent implementation.

Prints JSON on stdout; test/dsl/lift-reference.json is its output, committed so that CI needs no
Python. Regenerate (Debian bookworm: `apt-get install -y python3-statsmodels`, which installs for
Debian's /usr/bin/python3, not a pyenv `python3` on PATH) with:

    /usr/bin/python3 test/dsl/lift-reference.py > test/dsl/lift-reference.json
    npx biome format --write test/dsl/lift-reference.json

(the second line only re-wraps the JSON the way the repository's formatter wants it; no figure changes)

Every figure comes from statsmodels or scipy, never from arithmetic written here:
- wilson:   statsmodels.stats.proportion.proportion_confint(count, nobs, alpha, method="wilson")
- diff:     confint_proportions_2indep(count1, nobs1, count2, nobs2, method="newcomb",
            compare="diff", alpha)  (Newcombe 1998, method 10, the hybrid score interval)
- ratio:    confint_proportions_2indep(..., method="log", compare="ratio", alpha)  (Katz); with a
            zero count statsmodels divides by zero, so counts are passed as float64 to record what
            it gives there (a non-finite bound, written as the string "nan", "inf" or "-inf")
- z:        scipy.stats.norm.isf(alpha / 2), the critical value statsmodels uses
- quantiles: scipy.stats.norm.ppf(p)
"""

import json
import math
import sys

import numpy as np
import scipy
import statsmodels
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

COMMAND = (
    "/usr/bin/python3 test/dsl/lift-reference.py > test/dsl/lift-reference.json"
    " && npx biome format --write test/dsl/lift-reference.json"
)

# (name, treated conversions, treated n, holdout conversions, holdout n, confidence)
CASES = [
    ("moderate lift, equal groups", 120, 1000, 80, 1000, 0.95),
    ("moderate lift at 90%", 120, 1000, 80, 1000, 0.90),
    ("moderate lift at 99%", 120, 1000, 80, 1000, 0.99),
    ("moderate lift at 99.9%", 120, 1000, 80, 1000, 0.999),
    ("moderate lift at 50%", 120, 1000, 80, 1000, 0.50),
    ("10% holdout of a small campaign", 45, 500, 3, 50, 0.95),
    ("10% holdout of a small campaign at 99%", 45, 500, 3, 50, 0.99),
    ("equal rates, unequal groups", 30, 300, 10, 100, 0.95),
    ("negative lift", 61, 1000, 92, 1000, 0.95),
    ("no conversions in either group", 0, 200, 0, 200, 0.95),
    ("no conversions in the treated group", 0, 200, 5, 200, 0.95),
    ("no conversions in the holdout", 7, 200, 0, 200, 0.95),
    ("everyone converted in the treated group", 200, 200, 150, 200, 0.95),
    ("everyone converted in the holdout", 150, 200, 200, 200, 0.95),
    ("everyone converted in both groups", 50, 50, 50, 50, 0.95),
    ("none against all", 0, 10, 10, 10, 0.95),
    ("all against none", 10, 10, 0, 10, 0.95),
    ("holdout of one", 1, 1, 0, 1, 0.95),
    ("holdout of three", 3, 10, 1, 3, 0.95),
    ("holdout of nine at 90%", 12, 40, 2, 9, 0.90),
    ("holdout of twenty-nine", 40, 300, 3, 29, 0.95),
    ("holdout of thirty", 40, 300, 3, 30, 0.95),
    ("large campaign", 5230, 100000, 490, 10000, 0.95),
    ("very large campaign at 99%", 123456, 2000000, 6000, 100000, 0.99),
    ("rare conversions, one in the treated group", 1, 100000, 0, 10000, 0.95),
    ("rare conversions in both groups", 13, 100000, 1, 10000, 0.95),
    ("one conversion each", 1, 40, 1, 40, 0.95),
    ("high rates near one", 988, 1000, 975, 1000, 0.95),
    ("confidence 80%", 33, 120, 20, 110, 0.80),
    ("confidence 99.99%", 33, 120, 20, 110, 0.9999),
]

QUANTILE_PROBABILITIES = [
    1e-300, 1e-100, 1e-20, 1e-10, 1e-6, 0.0005, 0.005, 0.025, 0.05, 0.074, 0.075, 0.076, 0.1,
    0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.924, 0.925, 0.926, 0.95, 0.975, 0.995, 0.9995, 0.999999,
    1 - 1e-10, 1 - 2 ** -53,
]


def number(value):
    """A float for JSON; non-finite values as strings (JSON has no NaN or Infinity)."""
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def case(name, c1, n1, c2, n2, confidence):
    alpha = 1 - confidence
    w1 = proportion_confint(c1, n1, alpha=alpha, method="wilson")
    w2 = proportion_confint(c2, n2, alpha=alpha, method="wilson")
    diff = confint_proportions_2indep(c1, n1, c2, n2, method="newcomb", compare="diff", alpha=alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = confint_proportions_2indep(
            np.float64(c1), np.float64(n1), np.float64(c2), np.float64(n2),
            method="log", compare="ratio", alpha=alpha,
        )
    return {
        "name": name,
        "treated": {"conversions": c1, "n": n1},
        "holdout": {"conversions": c2, "n": n2},
        "confidence": confidence,
        "z": number(stats.norm.isf(alpha / 2)),
        "wilson_treated": [number(w1[0]), number(w1[1])],
        "wilson_holdout": [number(w2[0]), number(w2[1])],
        "newcombe_diff": [number(diff[0]), number(diff[1])],
        "log_ratio": [number(ratio[0]), number(ratio[1])],
    }


def main():
    reference = {
        "generated_by": COMMAND,
        "statsmodels": statsmodels.__version__,
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "cases": [case(*row) for row in CASES],
        "normal_quantiles": [{"p": p, "z": number(stats.norm.ppf(p))} for p in QUANTILE_PROBABILITIES],
    }
    json.dump(reference, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
