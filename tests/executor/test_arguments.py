"""The compiled argument conversion (``schema/executor/strawberry_resolvers.py``) gives what
Strawberry's ``convert_arguments`` gives, for every field of the real schema it serves.

Hypothesis draws each argument's input as a client would write it (JSON values: enum names,
nested input objects with any of their fields, nulls, lists) and graphql-core coerces it, as it does
before calling a resolver; both conversions must then return equal values of the same classes,
input objects built anew (a resolver may not change the next request's arguments).
"""

import copy
import dataclasses
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    coerce_input_value,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from schema import build_schema
from schema.executor.strawberry_resolvers import DEFINITION, argument_converters

SCHEMA = build_schema()
CONVERTER = SCHEMA.schema_converter
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.text(max_size=8),
    "ID": st.text(max_size=8),
    "Int": st.integers(-(2**31), 2**31 - 1),
    "Float": st.floats(allow_nan=False, allow_infinity=False),
    "Boolean": st.booleans(),
    "Date": st.dates().map(str),
    "DateTime": st.datetimes().map(lambda t: t.isoformat() + "+08:00"),
    "Upload": st.binary(max_size=4),  # (a file: passed on as it is)
}


def written(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """An input of ``type_`` as JSON, null wherever the type allows it."""
    if isinstance(type_, GraphQLNonNull):
        return _written_non_null(type_.of_type, depth)
    return st.none() | _written_non_null(type_, depth)


def _written_non_null(type_: GraphQLInputType, depth: int) -> st.SearchStrategy[Any]:
    if isinstance(type_, GraphQLList):
        return st.lists(written(type_.of_type, depth + 1), max_size=3)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(sorted(type_.values))
    if isinstance(type_, GraphQLScalarType):
        return SCALARS[type_.name]
    assert isinstance(type_, GraphQLInputObjectType), type_
    fields = {
        name: written(field.type, depth + 1)
        for name, field in type_.fields.items()
        if depth < 3 or isinstance(field.type, GraphQLNonNull)
    }
    required = {
        name for name, field in type_.fields.items() if isinstance(field.type, GraphQLNonNull)
    }
    return st.fixed_dictionaries(
        {name: fields[name] for name in required},
        optional={name: strategy for name, strategy in fields.items() if name not in required},
    )


def served_fields() -> list[tuple[str, GraphQLField]]:
    schema = SCHEMA._schema
    return [
        (f"{type_.name}.{name}", field)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and type_ is not schema.subscription_type
        for name, field in type_.fields.items()
        if field.args and "_resolver_for" in getattr(field.resolve, "__qualname__", "")
    ]


FIELDS = served_fields()


def test_the_fields_with_arguments_are_served() -> None:
    names = {name for name, _ in FIELDS}
    assert {"Query.coordinations", "Mutation.saveCoordination", "Query.node"} <= names


def coerced_arguments(field: GraphQLField) -> st.SearchStrategy[dict[str, Any]]:
    """Arguments as graphql-core hands them to a resolver: coerced, the omitted ones absent."""
    required = {name for name, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)}
    strategies = {name: written(arg.type) for name, arg in field.args.items()}
    return st.fixed_dictionaries(
        {name: strategies[name] for name in required},
        optional={name: s for name, s in strategies.items() if name not in required},
    ).flatmap(lambda values: _coerced(field, values))


def _coerced(field: GraphQLField, values: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    try:
        coerced = {
            name: coerce_input_value(value, field.args[name].type) for name, value in values.items()
        }
        return st.just(coerced)
    except Exception:  # an input graphql-core refuses (a date out of range): never converted
        return st.nothing()


def assert_same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    if isinstance(theirs, list):
        assert len(ours) == len(theirs)
        for mine, other in zip(ours, theirs, strict=True):
            assert_same(mine, other)
    elif dataclasses.is_dataclass(theirs):
        assert ours is not theirs
        assert vars(ours).keys() == vars(theirs).keys()
        for name in vars(theirs):
            assert_same(getattr(ours, name), getattr(theirs, name))
    else:
        assert ours == theirs


@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[name for name, _ in FIELDS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_arguments_convert_as_strawberry_converts_them(
    name: str, field: GraphQLField, data: st.DataObject
) -> None:
    raw = data.draw(coerced_arguments(field))
    definition = field.extensions[DEFINITION]
    assert isinstance(definition, StrawberryField)
    registry, config = CONVERTER.scalar_registry, CONVERTER.config
    theirs = convert_arguments(raw, definition.arguments, scalar_registry=registry, config=config)
    ours = {
        python_name: convert(raw[graphql_name])
        for python_name, graphql_name, convert in argument_converters(definition, CONVERTER)
        if graphql_name in raw
    }
    assert ours.keys() == theirs.keys()
    for key in theirs:
        assert_same(ours[key], theirs[key])
    before = copy.deepcopy(raw)
    for value in ours.values():
        scribble(value)
    assert raw == before, "a resolver changing its arguments changed graphql-core's values"


def scribble(value: Any) -> None:
    """Change every list and input object in ``value``, as a careless resolver might."""
    if isinstance(value, list):
        for item in value:
            scribble(item)
        value.append(None)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name, item in list(vars(value).items()):
            scribble(item)
            setattr(value, name, "scribbled")
