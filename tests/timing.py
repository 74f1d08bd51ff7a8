"""Timing properties measured so that load on the machine cannot fail them.

A ratio of two medians taken one after the other fails whenever the load changes between them.
Here the two operations are timed in pairs, one right after the other (the order alternating, so
that neither gains from going second), and a paired test decides: the Wilcoxon signed-rank test on
the log of each pair's ratio, one-sided in each direction at ``alpha / 2``. Whatever the load does,
it slows both members of a pair alike, so when both operations take as long the test fails with
probability below ``alpha``. It fails for one that takes more than ``tolerance`` times as long
as the other only when the pairs show it beyond doubt; the tests take enough pairs that a real
2× gap is found even on a busy machine (tests/test_timing.py checks both on simulated timings).
"""

import math
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from scipy.stats import wilcoxon

ALPHA = 0.001
"""The chance that two operations that take equally long fail the test."""

TOLERANCE = 1.25
"""A gap up to this factor is not a finding (a real one this small tells an attacker little)."""


@dataclass(frozen=True)
class Pairs:
    first: list[float]
    second: list[float]

    @property
    def log_ratios(self) -> list[float]:
        return [math.log(a / b) for a, b in zip(self.first, self.second, strict=True)]

    def p_value_slower(self, which: str, tolerance: float = TOLERANCE) -> float:
        """How likely pairs like these are if ``which`` (first/second) takes at most ``tolerance``
        times as long as the other."""
        sign = 1 if which == "first" else -1
        shifted = [sign * ratio - math.log(tolerance) for ratio in self.log_ratios]
        return float(wilcoxon(shifted, alternative="greater").pvalue)

    def describe(self) -> str:
        return (
            f"medians {statistics.median(self.first) * 1000:.1f} ms and "
            f"{statistics.median(self.second) * 1000:.1f} ms, median ratio "
            f"{math.exp(statistics.median(self.log_ratios)):.2f} over {len(self.first)} pairs; "
            f"p first slower {self.p_value_slower('first'):.2g}, "
            f"p second slower {self.p_value_slower('second'):.2g}"
        )


async def timed_pairs(
    first: Callable[[], Awaitable[object]], second: Callable[[], Awaitable[object]], pairs: int
) -> Pairs:
    """``pairs`` timings of each, interleaved (after one warm-up call each, not counted)."""
    await first()
    await second()
    times: dict[int, list[float]] = {0: [], 1: []}
    for index in range(pairs):
        order = (0, 1) if index % 2 == 0 else (1, 0)
        for which in order:
            start = time.perf_counter()
            await (first, second)[which]()
            times[which].append(time.perf_counter() - start)
    return Pairs(times[0], times[1])


def assert_take_as_long(pairs: Pairs, *, alpha: float = ALPHA) -> None:
    """Neither operation takes significantly more than ``TOLERANCE`` times as long as the other."""
    worst = min(pairs.p_value_slower("first"), pairs.p_value_slower("second"))
    assert worst >= alpha / 2, f"one takes longer: {pairs.describe()}"
