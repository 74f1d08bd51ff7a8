"""Python's cyclic garbage collector, tuned for a server once its startup is done.

A request allocates thousands of short-lived objects, so at CPython's default threshold (a young
collection every 700 allocations) a list page ran several collections, and the older generations'
ran over everything startup built (the schema, its plans' caches, SQLAlchemy's mappers), none of
which ever becomes garbage. Measured with ``bench/list.py`` (first page, 16 clients, one worker):
1.37 ms of CPU per request by default, 1.26 with startup's objects frozen out of the collector's
reach (``gc.freeze``), 1.13 with young collections every 10,000 allocations as well (p99 76 ms →
26 ms). Refcounting still frees almost everything at once; only cyclic garbage waits a little
longer for its collection.

Done once per process, when the first app starts (a worker is one process with one app; a test
run starts many, and freezing each one's objects would keep them all).
"""

import gc

YOUNG_THRESHOLD = 10_000
"""Allocations (less deallocations) between young collections; CPython's default is 700."""

_tuned = False


def tune_once() -> None:
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()  # startup's garbage, before what is left is frozen
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
