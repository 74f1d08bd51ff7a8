"""What a plan needs while it runs: where a value sits, the errors it found, and the way back.

A plan mirrors graphql-core's ``complete_value`` family, so its error handling is graphql-core's: a
field error is located (``located_error``) at the field or list item where it was raised, raised on
to the parent when that position is non-null and otherwise recorded (``CollectedErrors.add``) with
a null in its place. Errors are buffered while the plan runs and handed to graphql-core in the order
they were found when it ends, so that a plan that gives up (``Fallback``) leaves nothing behind.

Paths are built only when an error needs one: a plan passes *chains*, plain ``(prev, key,
typename)`` tuples ending in graphql-core's ``Path`` of the field where the plan started, and
``to_path`` turns a chain into the equal ``Path`` (a named tuple: equal paths are one position).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from types import CoroutineType, GeneratorType
from typing import TYPE_CHECKING, Any, TypeAlias

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    located_error,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

if TYPE_CHECKING:
    from schema.executor.executor import CompiledExecution

Chain: TypeAlias = Any
"""A ``Path``, or a ``(prev, key, typename)`` tuple whose ``prev`` is a chain."""

Complete: TypeAlias = Callable[[Any, Chain, "Run"], Any]
"""A compiled ``complete_value`` for one type at one place of the document."""


class Fallback(BaseException):
    """The plan met something only graphql-core can complete (an awaitable, an async iterable).

    A ``BaseException`` so that the field-error handlers (``except Exception``, as graphql-core's)
    let it through to the start of the plan, which then lets graphql-core complete the value."""


@dataclass(frozen=True, slots=True)
class Site:
    """The field whose value is being completed: what graphql-core's ``GraphQLResolveInfo`` holds
    that does not change between executions of one document."""

    parent_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]

    @property
    def name(self) -> str:
        return self.nodes[0].name.value

    def null_message(self) -> str:
        return f"Cannot return null for non-nullable field {self.parent_type}.{self.name}."


class Run:
    """One execution of one plan."""

    __slots__ = ("errors", "executor", "is_awaitable")

    def __init__(self, executor: "CompiledExecution") -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.errors: list[tuple[GraphQLError, Path]] = []

    def fail(self, raw: Exception, non_null: bool, site: Site, chain: Chain) -> None:
        """graphql-core's ``handle_field_error``: raise on if non-null, else record (the caller
        puts the null in place)."""
        path = to_path(chain)
        error = located_error(raw, list(site.nodes), path.as_list())
        if non_null:
            raise error
        self.errors.append((error, path))

    def info(self, site: Site, chain: Chain, depth: int) -> "GraphQLResolveInfo[Any]":
        """The resolve info graphql-core would pass for this value: that of its field, whose path
        is ``depth`` list items up from the value's."""
        for _ in range(depth):
            chain = chain[0]
        return self.executor.build_resolve_info(
            site.field_def, site.nodes, site.parent_type, to_path(chain)
        )

    def commit(self) -> None:
        add = self.executor.collected_errors.add
        for error, path in self.errors:
            add(error, path)


def to_path(chain: Chain) -> Path:
    keys: list[tuple[str | int, str | None]] = []
    while type(chain) is tuple:
        chain, key, typename = chain
        keys.append((key, typename))
    path: Path = chain
    for key, typename in reversed(keys):
        path = Path(path, key, typename)
    return path


# Builtin value types that are never awaitable (the only classes not written in Python a plan
# judges by their class), and what it learnt of the others.
plain_classes: dict[type, bool] = dict.fromkeys(
    (str, int, float, bool, type(None), list, tuple, dict, dt.datetime, dt.date, dt.time), True
)
_MAX_CLASSES = 4096


def is_plain_class(cls: type) -> bool:
    """Whether no value of ``cls`` is an exception or awaitable as graphql-core's ``is_awaitable``
    sees it (a coroutine, an iterable coroutine, or anything with ``__await__``), judged from the
    class, so that a plan may skip both checks for its values: a class written in Python with no
    ``__await__``, ``__getattr__`` or ``__getattribute__`` of its own. (An ``__await__`` set on one
    instance is not seen; graphql-core would try, and fail, to await that instance.)"""
    plain = plain_classes.get(cls)
    if plain is None:
        plain = not issubclass(cls, (BaseException, CoroutineType, GeneratorType)) and all(
            name not in vars(base)
            for base in cls.__mro__[:-1]
            for name in ("__getattribute__", "__getattr__", "__await__")
        )
        if len(plain_classes) < _MAX_CLASSES:
            plain_classes[cls] = plain
    return plain
