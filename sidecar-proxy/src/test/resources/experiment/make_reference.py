#!/usr/bin/python3
"""Reference values for Gantry's experiment statistics, from an implementation that is not Gantry's.

Run with Debian's interpreter (python3-scipy, python3-statsmodels):

    /usr/bin/python3 sidecar-proxy/src/test/resources/experiment/make_reference.py

It writes reference.json beside itself:
  srm        exposures, weights and scipy.stats.chisquare's p-value
  sequences  two arms of simulated data as summaries (n, sum, sum of squares), alpha, the planned
             sample size, the asymptotic confidence sequence for the difference of means computed
             here with numpy (Waudby-Smith et al., arXiv:2103.06476, the two-sided normal-mixture
             boundary, in the form GrowthBook uses for a difference of two means), its always-valid
             p-value, and statsmodels' fixed-horizon z interval (CompareMeans.zconfint_diff, unequal
             variances) on the same data, which a sequence must contain.
The committed file is what the tests read; building and testing Gantry needs no Python.
"""
import json
import math
import os

import numpy as np
from scipy import stats
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

HERE = os.path.dirname(os.path.abspath(__file__))


def rho(alpha, planned):
    l = -2 * math.log(alpha)
    return math.sqrt((l + math.log(l + 1)) / planned)


def sequence(x_c, x_t, alpha, planned):
    n = len(x_c) + len(x_t)
    d = float(np.mean(x_t) - np.mean(x_c))
    v = float(np.var(x_c, ddof=1) / len(x_c) + np.var(x_t, ddof=1) / len(x_t))
    r = rho(alpha, planned)
    nr2 = n * r * r
    sigma2 = n * v
    half = math.sqrt(sigma2) * math.sqrt(2 * (nr2 + 1) / (n * n * r * r) * math.log(math.sqrt(nr2 + 1) / alpha))
    p = min(1.0, math.sqrt(nr2 + 1) * math.exp(-d * d * n * nr2 / (2 * sigma2 * (nr2 + 1))))
    return d, d - half, d + half, p


def summary(x):
    return {"n": int(len(x)), "sum": float(np.sum(x)), "sum_of_squares": float(np.sum(np.square(x)))}


def main():
    rng = np.random.default_rng(20261129)
    srm = []
    for exposures, weights in [([9000, 1000], [90, 10]), ([9120, 880], [90, 10]), ([5000, 5100], [50, 50]),
                               ([5000, 5400], [50, 50]), ([3300, 3350, 3350], [1, 1, 1]),
                               ([2000, 2100, 5900], [20, 20, 60]), ([100, 0, 130], [50, 0, 50])]:
        used = [(e, w) for e, w in zip(exposures, weights) if w > 0]
        total = sum(e for e, _ in used)
        wsum = sum(w for _, w in used)
        expected = [total * w / wsum for _, w in used]
        p = float(stats.chisquare([e for e, _ in used], expected).pvalue)
        srm.append({"exposures": exposures, "weights": weights, "p_value": p})
    sequences = []
    cases = [("bernoulli 0.10 vs 0.10", lambda n: rng.binomial(1, 0.10, n), lambda n: rng.binomial(1, 0.10, n), 2000, 2000),
             ("bernoulli 0.10 vs 0.13", lambda n: rng.binomial(1, 0.10, n), lambda n: rng.binomial(1, 0.13, n), 5000, 5000),
             ("latency lognormal, unequal arms", lambda n: rng.lognormal(3.0, 0.5, n),
              lambda n: rng.lognormal(3.05, 0.5, n), 9000, 1000),
             ("reward normal, tiny arms", lambda n: rng.normal(1.0, 2.0, n), lambda n: rng.normal(1.5, 2.0, n), 30, 40)]
    for name, control, treatment, n_c, n_t in cases:
        x_c = control(n_c).astype(float)
        x_t = treatment(n_t).astype(float)
        for alpha, planned in [(0.05, 10000), (0.01, 1000)]:
            d, lower, upper, p = sequence(x_c, x_t, alpha, planned)
            z_lower, z_upper = CompareMeans(DescrStatsW(x_t), DescrStatsW(x_c)).zconfint_diff(alpha=alpha,
                                                                                              usevar="unequal")
            sequences.append({"case": name, "control": summary(x_c), "treatment": summary(x_t), "alpha": alpha,
                              "planned_n": planned, "difference": d, "lower": lower, "upper": upper, "p_value": p,
                              "fixed_horizon_lower": float(z_lower), "fixed_horizon_upper": float(z_upper)})
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump({"srm": srm, "sequences": sequences}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
