"""Statistics over the rounds of a benchmark: medians, nearest-rank quantiles, (median, low,
high) summaries (min-max up to 10 values, the interquartile range beyond), ratios paired
round by round, distributions of one run. Pure functions; NaN and None mean "no value".
"""
import math
import statistics


def median(xs):
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    return statistics.median(xs) if xs else float("nan")


def quantile(sorted_xs, p):
    """Nearest-rank quantile of an already sorted list."""
    if not sorted_xs:
        return float("nan")
    k = max(0, min(len(sorted_xs) - 1, math.ceil(p * len(sorted_xs)) - 1))
    return sorted_xs[k]


def summary(xs):
    """(median, low, high): min/max up to 10 values, the interquartile range beyond."""
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    if not xs:
        return (float("nan"),) * 3
    if len(xs) <= 10:
        return statistics.median(xs), xs[0], xs[-1]
    return statistics.median(xs), quantile(xs, 0.25), quantile(xs, 0.75)


def spread_kind(n):
    return "min-max" if n <= 10 else "IQR"


def paired(runs_a, runs_b, f):
    """f(a_i, b_i) for the runs of one round (runs are in round order)."""
    return [f(a, b) for a, b in zip(runs_a, runs_b)]


def summarize_dist(sorted_xs):
    if not sorted_xs:
        return {"n": 0}
    return {"n": len(sorted_xs), "p50": quantile(sorted_xs, 0.5), "p99": quantile(sorted_xs, 0.99),
            "max": sorted_xs[-1], "min": sorted_xs[0]}
