"""Page sizes: every list argument ``first``/``last`` is 1–100 (default 20)."""

from schema.context import BadUserInput
from schema.refusals import PAGE_SIZE

DEFAULT_FIRST = 20
MAX_FIRST = 100


def check_first(first: int, argument: str = "first") -> int:
    if not 1 <= first <= MAX_FIRST:
        raise BadUserInput(PAGE_SIZE, argument, max=MAX_FIRST)
    return first
