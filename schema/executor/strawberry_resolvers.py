"""Strawberry's resolver wrapper, without its per-call generality, for the fields that need none.

For a field with a resolver, the function Strawberry gives graphql-core (``from_resolver``'s
``_resolver``/``_async_resolver``) builds an ``Info``, converts the arguments with
``convert_arguments`` (which works out again, on every call, the Strawberry type of each argument
and of each field of an input type, and its GraphQL name), runs the field's extensions and
exception handlers, and calls the resolver. That was a tenth of a list page's CPU, for a filter.

``install(schema)`` replaces it, for each field with no extensions and no exception handlers whose
arguments are all of plain kinds (scalars, enums, lists, optionals, input types without a custom
``from_input``), by a function that does the same in the same order: the same ``Info``, the
arguments converted by converters compiled once per argument (``compile_converter``, step for
step ``convert_argument``), the resolver called with the parameters ``get_arguments`` passes, an
async result awaited. Any other field keeps Strawberry's function.
"""

from collections.abc import Callable, Mapping
from dataclasses import MISSING
from typing import Any

from graphql import GraphQLField, GraphQLObjectType, GraphQLSchema
from strawberry.relay.types import GlobalID
from strawberry.scalars import is_scalar
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET
from strawberry.utils.await_maybe import await_maybe

Convert = Callable[[Any], Any]
DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class Unsupported(Exception):
    """A type whose conversion is left to Strawberry."""


def install(schema: GraphQLSchema, converter: GraphQLCoreConverter) -> int:
    """Replace the resolve functions of the fields that qualify; how many did."""
    subscription = schema.subscription_type
    installed = 0
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_ is subscription:
            continue
        for field_def in type_.fields.values():
            resolve = _resolver_for(field_def, converter)
            if resolve is not None:
                field_def.resolve = resolve
                installed += 1
    return installed


def _resolver_for(
    field_def: GraphQLField, converter: GraphQLCoreConverter
) -> Callable[..., Any] | None:
    field = field_def.extensions.get(DEFINITION)
    built_as = getattr(field_def.resolve, "__name__", None)
    if (
        not isinstance(field, StrawberryField)
        or field.base_resolver is None
        or field.extensions
        or type(field).get_result is not StrawberryField.get_result
        or built_as not in ("_resolver", "_async_resolver")
        or converter._get_field_exception_handlers(field)
    ):
        return None
    try:
        arguments = argument_converters(field, converter)
    except Unsupported:
        return None
    resolver = field.base_resolver
    call = field.get_result
    info_class = converter.config.info_class
    with_self = resolver.self_parameter is not None
    source_names = [
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve(source: Any, info: Any, **raw: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        kwargs = {
            python_name: convert(raw[graphql_name])
            for python_name, graphql_name, convert in arguments
            if graphql_name in raw
        }
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return call(source, info=strawberry_info, args=[source] if with_self else [], kwargs=kwargs)

    # Named as the function each stands for, for whoever asks which of its wrappers Strawberry
    # built (the compiled executor's ``plain_reader``).
    if built_as == "_resolver":
        resolve.__name__ = "_resolver"
        return resolve

    async def _async_resolver(source: Any, info: Any, **raw: Any) -> Any:
        return await await_maybe(resolve(source, info, **raw))

    return _async_resolver


def argument_converters(
    field: StrawberryField, converter: GraphQLCoreConverter
) -> list[tuple[str, str, Convert]]:
    """Each argument's Python name, GraphQL name and converter (``Unsupported`` if one has none)."""
    return [
        (
            argument.python_name,
            converter.config.name_converter.from_argument(argument),
            compile_converter(argument.type, converter.scalar_registry, converter),
        )
        for argument in field.arguments
    ]


def compile_converter(
    type_: Any, scalar_registry: Mapping[object, Any], converter: GraphQLCoreConverter
) -> Convert:
    """``convert_argument`` for values of ``type_``, its type analysis done now."""
    if isinstance(type_, StrawberryMaybe):
        raise Unsupported(type_)
    if isinstance(type_, StrawberryOptional):
        # (convert_argument checks None and UNSET again below the optional: the same answer)
        return compile_converter(type_.of_type, scalar_registry, converter)
    if isinstance(type_, StrawberryList):
        item = type_.of_type
        if _is_leaf(item, scalar_registry) or (
            isinstance(item, StrawberryOptional) and _is_leaf(item.of_type, scalar_registry)
        ):
            return _unless_empty(list)  # a copy: graphql-core shares its default values
        convert_item = compile_converter(item, scalar_registry, converter)
        return _unless_empty(lambda values: [convert_item(value) for value in values])
    if _is_leaf(type_, scalar_registry):
        return _unless_empty(_same)
    if isinstance(type_, LazyType):
        return compile_converter(type_.resolve_type(), scalar_registry, converter)
    if has_enum_definition(type_):
        return compile_converter(type_.__strawberry_definition__, scalar_registry, converter)
    if has_object_definition(type_):
        return _input(type_, scalar_registry, converter)
    raise Unsupported(type_)


def _input(
    type_: Any, scalar_registry: Mapping[object, Any], converter: GraphQLCoreConverter
) -> Convert:
    definition = type_.__strawberry_definition__
    if definition.from_input is not None:
        raise Unsupported(type_)
    defaults = (
        {
            field.python_name: None
            for field in definition.fields
            if field.default_value is MISSING and field.default_factory is MISSING
        }
        if definition.is_input
        else {}
    )
    fields = [
        (
            field.python_name,
            converter.config.name_converter.from_field(field),
            compile_converter(
                field.resolve_type(type_definition=definition), scalar_registry, converter
            ),
        )
        for field in definition.fields
    ]

    def build(value: Mapping[str, Any]) -> Any:
        kwargs = dict(defaults)
        for python_name, graphql_name, convert in fields:
            if graphql_name in value:
                kwargs[python_name] = convert(value[graphql_name])
        return type_(**kwargs)

    return _unless_empty(build)


def _is_leaf(type_: Any, scalar_registry: Mapping[object, Any]) -> bool:
    """``_is_leaf_type`` less ``GlobalID``, which Strawberry decodes (left to it)."""
    if type_ is GlobalID:
        raise Unsupported(type_)
    if is_scalar(type_, scalar_registry) or isinstance(type_, StrawberryEnumDefinition):
        return True
    if isinstance(type_, LazyType):
        return _is_leaf(type_.resolve_type(), scalar_registry)
    return False


def _same(value: Any) -> Any:
    return value


def _unless_empty(convert: Convert) -> Convert:
    """``convert_argument``'s first steps for every type: None stays None, UNSET stays UNSET."""

    def converted(value: Any) -> Any:
        if value is None or value is UNSET:
            return value
        return convert(value)

    return converted
