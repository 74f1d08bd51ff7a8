"""Compiled ``complete_value``: one function per type and place in the document (a closure; for
an object, source written for its fields and compiled).

Each factory returns what graphql-core's ``Executor.complete_value`` does for its kind of type, step
for step and in the same order (exception results raised, nulls, non-null checks, lists item by
item, leaves through the type's ``coerce_output_value``, abstract types resolved and checked,
objects checked with ``is_type_of`` and completed field by field), minus what a known document and
plain data make unnecessary: field collection (done when compiling), a ``GraphQLResolveInfo`` per
field (built only when a type's own ``is_type_of``/``resolve_type`` needs one), resolver wrappers
(fields are read by the readers the executor supplies) and awaitable checks on values whose class
is plain.
"""

from collections.abc import Callable, Mapping, Sequence
from types import CoroutineType
from typing import Any, NamedTuple

from graphql import (
    GraphQLAbstractType,
    GraphQLError,
    GraphQLLeafType,
    GraphQLObjectType,
    Undefined,
)
from graphql.execution.executor import invalid_return_type_error
from graphql.pyutils import is_iterable
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    serialize_boolean,
    serialize_id,
    serialize_int,
    serialize_string,
)

from schema.executor.run import Complete, Fallback, Run, Site, is_plain_class, plain_classes

_MISSING = object()


SAME = object()
"""In ``Outputs``: a value of this class is its own output."""

Outputs = Mapping[type, Any]
"""A leaf type's known outputs, by exact class of value: ``SAME``, or a mapping from the ``id`` of
each value (an enum's members: they live as long as their class) to its output."""


class Step(NamedTuple):
    """One response key of an object: how to read its value and complete it."""

    key: str
    read: Callable[[Any], Any] | None  # None: ``__typename``
    outputs: Outputs  # values completed without a call (empty but for leaf types)
    complete: Complete
    non_null: bool
    site: Site


def outputs(leaf_type: GraphQLLeafType, memo: Mapping[type, Mapping[Any, Any]]) -> Outputs:
    """``memo`` (coerced outputs of some values, by exact class; only plain classes, whose values
    need no awaitable check) and the classes whose values graphql-core's output coercion returns
    unchanged (String and ID a ``str``, Boolean a ``bool``)."""
    found: dict[type, Any] = {
        cls: {id(value): output for value, output in known.items()}
        for cls, known in memo.items()
        if is_plain_class(cls)
    }
    coerce = leaf_type.coerce_output_value
    if coerce is serialize_string or coerce is serialize_id:
        found.setdefault(str, SAME)
    elif coerce is serialize_boolean:
        found.setdefault(bool, SAME)
    return found


def leaf(leaf_type: GraphQLLeafType, known: Outputs, null: str | None) -> Complete:
    """``known``: the type's ``outputs``; an Int that is its own coerced value is returned as it
    is. ``null``: the error message if the type is non-null (graphql-core's leaf coercion never
    gives null: it raises)."""
    coerce = leaf_type.coerce_output_value
    is_int = coerce is serialize_int

    def complete(value: Any, _chain: Any, run: Run) -> Any:
        cls = type(value)
        output = known.get(cls)
        if output is SAME:
            return value
        if output is not None:
            output = output.get(id(value), _MISSING)
            if output is not _MISSING:
                return output
        elif is_int and cls is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
            return value
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if null is not None:
                raise TypeError(null)
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:  # graphql-core's error, from graphql-core
            return run.executor.complete_leaf_value(leaf_type, value)
        return coerced

    return complete


def listing(
    item: Complete, item_outputs: Outputs, item_non_null: bool, site: Site, null: str | None
) -> Complete:
    message = f"Expected Iterable, but did not find one for field '{site.parent_type}.{site.name}'."

    def complete(value: Any, chain: Any, run: Run) -> Any:
        if type(value) is not list:
            if isinstance(value, Exception):
                raise value
            if value is None or value is Undefined:
                if null is not None:
                    raise TypeError(null)
                return None
            if run.executor.is_async_iterable(value):
                raise Fallback
            if not is_iterable(value):
                raise GraphQLError(message)
        completed: list[Any] = []
        append = completed.append
        for index, element in enumerate(value):
            cls = type(element)
            output = item_outputs.get(cls)
            if output is SAME:
                append(element)
                continue
            if output is not None:
                output = output.get(id(element), _MISSING)
                if output is not _MISSING:
                    append(output)
                    continue
            if not (plain_classes.get(cls) or is_plain_class(cls)) and run.is_awaitable(element):
                raise Fallback
            element_chain = (chain, index, None)
            try:
                append(item(element, element_chain, run))
            except Exception as raw:
                run.fail(raw, item_non_null, site, element_chain)
                append(None)
        return completed

    return complete


def object_type(
    type_: GraphQLObjectType,
    site: Site,
    depth: int,
    steps: Sequence[Step],
    is_type_of: Callable[[Any], bool] | None,
    null: str | None,
) -> Complete:
    """``depth``: list items between the field and this value (``Run.info`` climbs them).

    The function is written for these steps (``_object_source``) and compiled, once per type and
    place in the document: a value's fields are completed by straight-line code, each step's
    reader, known outputs and completion bound by name, instead of a loop unpacking each step (a
    quarter of a list page's completion)."""
    namespace: dict[str, Any] = {
        "Undefined": Undefined,
        "SAME": SAME,
        "MISSING": _MISSING,
        "Fallback": Fallback,
        "plain_classes": plain_classes,
        "is_plain_class": is_plain_class,
        "invalid_return_type_error": invalid_return_type_error,
        "discard": _discard,
        "typename": type_.name,
        "check": type_.is_type_of,
        "is_type_of": is_type_of,
        "type_": type_,
        "site": site,
        "depth": depth,
        "null": null,
    }
    for index, step in enumerate(steps):
        namespace.update(
            {
                f"read_{index}": step.read,
                f"known_{index}": step.outputs,
                f"complete_{index}": step.complete,
                f"non_null_{index}": step.non_null,
                f"site_{index}": step.site,
            }
        )
    source = _object_source(steps, check=type_.is_type_of is not None, plain=is_type_of is not None)
    exec(compile(source, f"<plan of {type_.name}>", "exec"), namespace)  # noqa: S102
    complete: Complete = namespace["complete"]
    return complete


def _object_source(steps: Sequence[Step], *, check: bool, plain: bool) -> str:
    """The source of an object's ``complete``: ``complete_value``'s steps for an object, in
    graphql-core's order (an exception result raised, null, ``is_type_of``, then each field:
    read, a known output, the awaitable check, its completion, a field error located at it)."""
    lines = [
        "def complete(value, chain, run):",
        "    if isinstance(value, Exception):",
        "        raise value",
        "    if value is None or value is Undefined:",
        "        if null is not None:",
        "            raise TypeError(null)",
        "        return None",
    ]
    if check and plain:
        lines += [
            "    if not is_type_of(value):",
            "        raise invalid_return_type_error(type_, value, site.details)",
        ]
    elif check:
        lines += [
            "    matches = check(value, run.info(site, chain, depth))",
            "    if run.is_awaitable(matches):",
            "        discard(matches)",
            "        raise Fallback",
            "    if not matches:",
            "        raise invalid_return_type_error(type_, value, site.details)",
        ]
    lines.append("    result = {}")
    for index, step in enumerate(steps):
        key = repr(step.key)  # a response key: a GraphQL name, [_A-Za-z][_0-9A-Za-z]*
        if step.read is None:
            lines.append(f"    result[{key}] = typename")
            continue
        lines += [
            "    try:",
            f"        field_value = read_{index}(value)",
            "        cls = type(field_value)",
        ]
        call = f"complete_{index}(field_value, (chain, {key}, typename), run)"
        completion = [
            "if not (plain_classes.get(cls) or is_plain_class(cls)) and "
            "run.is_awaitable(field_value):",
            "    raise Fallback",
            f"result[{key}] = {call}",
        ]
        if step.outputs:
            lines += [
                f"        output = known_{index}.get(cls)",
                "        if output is SAME:",
                f"            result[{key}] = field_value",
                "        elif output is not None and (",
                "            output := output.get(id(field_value), MISSING)",
                "        ) is not MISSING:",
                f"            result[{key}] = output",
                "        else:",
                *("            " + line for line in completion),
            ]
        else:  # (no output is known without completing it: not a leaf)
            lines += ["        " + line for line in completion]
        lines += [
            "    except Exception as raw:",
            f"        run.fail(raw, non_null_{index}, site_{index}, (chain, {key}, typename))",
            f"        result[{key}] = None",
        ]
    lines.append("    return result")
    return "\n".join(lines) + "\n"


def abstract_type(
    type_: GraphQLAbstractType,
    site: Site,
    depth: int,
    objects: Mapping[str, Complete],
    resolve: Callable[[Any], str | None] | None,
    null: str | None,
) -> Complete:
    """``objects``: the completion of every possible type; ``resolve``: the runtime type's name
    where it is known without a resolve info (else None), as the type's ``resolve_type`` would."""

    def complete(value: Any, chain: Any, run: Run) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if null is not None:
                raise TypeError(null)
            return None
        name = resolve(value) if resolve is not None else None
        complete_object = objects.get(name) if name is not None else None
        if complete_object is None:
            executor = run.executor
            info = run.info(site, chain, depth)
            runtime = (type_.resolve_type or executor.type_resolver)(value, info, type_)
            if run.is_awaitable(runtime):
                _discard(runtime)
                raise Fallback
            found = executor.ensure_valid_runtime_type(runtime, type_, site.details, info, value)
            complete_object = objects[found.name]
        return complete_object(value, chain, run)

    return complete


def _discard(awaitable: object) -> None:
    """Close a coroutine the plan will not await (graphql-core calls the function again)."""
    if isinstance(awaitable, CoroutineType):
        awaitable.close()
