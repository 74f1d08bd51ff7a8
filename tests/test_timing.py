"""The timing tests' own test (tests/timing.py), on simulated timings of a loaded machine: the
load swings several-fold from one pair to the next, each timing has noise of its own, and one in
ten is held up by up to 30 ms (a scheduling delay: several times a quick request, a little of a
slow one). With fixed seeds the figures are the same on every run."""

import random

import pytest

from tests.e2e.test_auth import LOGIN_PAIRS
from tests.e2e.test_certificates import PAIRS as AUTOFILL_PAIRS
from tests.timing import ALPHA, Pairs, assert_take_as_long

RUNS = 200
QUICK, SLOW = 0.003, 0.25  # seconds: an autofill, a login (argon2) on a busy machine
CASES = [(QUICK, AUTOFILL_PAIRS), (SLOW, LOGIN_PAIRS)]


def simulated(rng: random.Random, pairs: int, seconds: float, gap: float) -> Pairs:
    """Timings of two operations of about ``seconds``, the first ``gap`` times as long."""

    def timing(load: float, typical: float) -> float:
        delay = rng.uniform(0, 0.03) if rng.random() < 0.1 else 0.0
        return load * (typical * rng.lognormvariate(0, 0.2) + delay)

    loads = [rng.lognormvariate(0, 0.7) for _ in range(pairs)]
    timings = [(timing(load, seconds * gap), timing(load, seconds)) for load in loads]
    return Pairs([first for first, _ in timings], [second for _, second in timings])


def fails(pairs: Pairs) -> bool:
    try:
        assert_take_as_long(pairs)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize(("seconds", "pairs"), CASES)
def test_equal_timings_fail_no_more_often_than_alpha(seconds: float, pairs: int) -> None:
    rng = random.Random(f"equal {seconds} {pairs}")
    failures = sum(fails(simulated(rng, pairs, seconds, gap=1.0)) for _ in range(RUNS))
    assert failures <= ALPHA * RUNS, failures


@pytest.mark.parametrize(("seconds", "pairs"), CASES)
def test_a_2x_gap_either_way_fails(seconds: float, pairs: int) -> None:
    rng = random.Random(f"gap {seconds} {pairs}")
    slower_first = sum(fails(simulated(rng, pairs, seconds, gap=2.0)) for _ in range(RUNS))
    slower_second = sum(fails(simulated(rng, pairs, seconds, gap=0.5)) for _ in range(RUNS))
    assert (slower_first, slower_second) == (RUNS, RUNS)
