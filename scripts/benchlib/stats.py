"""Statistics over the rounds of a benchmark: medians, nearest-rank quantiles, (median, low,
high) summaries (min-max up to 10 values, the interquartile range beyond), ratios paired
round by round (joined on the runs' round numbers where they carry them), the resolution
of a median (its interval from the interquartile range) and the verdict of a target from
it, distributions of one run. Pure functions; NaN and None mean "no value".
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
    """f(a, b) for the runs a, b of one round. Runs that carry their round number ("round":
    the overhead section, which runs some configurations in some rounds only) are joined on
    it; others are in round order, one per round."""
    if runs_a and runs_b and all("round" in x for x in runs_a) and all("round" in x for x in runs_b):
        by_round = {b["round"]: b for b in runs_b}
        return [f(a, by_round[a["round"]]) for a in runs_a if a["round"] in by_round]
    return [f(a, b) for a, b in zip(runs_a, runs_b)]


# The half-width of a median's ~95% interval is NOTCH * IQR / sqrt(n) (McGill, Tukey and
# Larsen 1978, the notch of a box plot): unlike the interquartile range of single rounds,
# which does not shrink with more rounds, it is what more rounds buy.
NOTCH = 1.58


def resolution(xs):
    """(median, half-width of its interval, interquartile range, n) of xs."""
    xs = sorted(x for x in xs if x is not None and not math.isnan(x))
    if not xs:
        return (float("nan"), float("nan"), float("nan"), 0)
    iqr = quantile(xs, 0.75) - quantile(xs, 0.25)
    return (statistics.median(xs), NOTCH * iqr / math.sqrt(len(xs)), iqr, len(xs))


# Fewer rounds than this resolve nothing: their interquartile range says little.
MIN_VERDICT_ROUNDS = 5


def verdict(res, target):
    """'met' when the median's whole interval is at or below target, 'missed' when it is
    wholly above, 'unresolved' otherwise (or with fewer than MIN_VERDICT_ROUNDS rounds):
    never from the median alone."""
    m, h, _, n = res
    if n < MIN_VERDICT_ROUNDS or math.isnan(m):
        return "unresolved"
    if m + h <= target:
        return "met"
    if m - h > target:
        return "missed"
    return "unresolved"


def rounds_to_resolve(res, target):
    """Rounds at which the interval would exclude the target at the same spread (the
    half-width shrinks as 1/sqrt(n)); None where the median sits on the target."""
    m, h, _, n = res
    if n == 0 or math.isnan(m) or m == target:
        return None
    return math.ceil(n * (h / abs(m - target)) ** 2)


def summarize_dist(sorted_xs):
    if not sorted_xs:
        return {"n": 0}
    return {"n": len(sorted_xs), "p50": quantile(sorted_xs, 0.5), "p99": quantile(sorted_xs, 0.99),
            "max": sorted_xs[-1], "min": sorted_xs[0]}
