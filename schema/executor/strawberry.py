"""Strawberry's side of the compiled executor: which of its fields, types and enums are plain data.

Everything here is read from the definitions Strawberry attaches to the graphql-core types (the
``strawberry-definition`` extension) and proven equal to what Strawberry's own wrappers would do:

- a field without a resolver, extensions or arguments is ``field.get_result`` reading the
  attribute by its Python name with the configured default resolver (``getattr``), when Strawberry
  built it as a basic field (``_get_basic_result``: no exception handler applies);
- a sync resolver taking only ``self`` is called with the parent as ``self``, as
  ``get_arguments``/``get_result`` do, when no extension or exception handler wraps it (its
  function itself, without ``StrawberryResolver.__call__`` around it); one made by
  ``attribute_resolver`` is its ``attrgetter``, which it only calls;
- the ``is_type_of`` Strawberry generates ignores its info argument and, for an object that is
  not ``strawberry.cast``, depends only on the object's class (``isinstance`` against the type's
  and its interfaces' classes): it is asked once per class;
- a union's or interface's ``resolve_type`` names, for an object of a non-generic Strawberry type
  that is not ``strawberry.cast``, that type: looked up by the object's exact class;
- an enum's members are coerced once, by the enum type's own ``coerce_output_value``.
"""

from collections.abc import Callable, Mapping
from enum import Enum
from functools import partial
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLAbstractType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType, GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

from schema.executor.executor import CompiledExecution
from schema.executor.run import is_plain_class

DEFINITION = GraphQLCoreConverter.DEFINITION_BACKREF


class StrawberryCompiledExecutor(CompiledExecution, StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, completing plain subtrees with compiled plans."""

    def plain_reader(
        self, parent_type: GraphQLObjectType, field_def: GraphQLField
    ) -> Callable[[Any], Any] | None:
        field = field_def.extensions.get(DEFINITION)
        if (
            not isinstance(field, StrawberryField)
            or field.extensions
            or field_def.args
            or type(field).get_result is not StrawberryField.get_result
        ):
            return None
        built_as = getattr(field_def.resolve, "__name__", None)
        resolver = field.base_resolver
        if resolver is None:
            if built_as != "_get_basic_result":
                return None
            read, name = field.default_resolver, field.python_name
            return attrgetter(name) if read is getattr else partial(_read, read, name)
        if (
            built_as != "_resolver"
            or field.is_async
            or field.arguments
            or resolver.self_parameter is None
            or resolver.info_parameter
            or resolver.root_parameter
            or resolver.parent_parameter
            or self._has_exception_handlers(field)
        ):
            return None
        function = resolver.wrapped_func
        if not callable(function):
            return resolver  # (which raises Strawberry's error for it)
        found: Callable[[Any], Any] | None = getattr(function, _GETTER, None)
        return found or function

    def plain_is_type_of(self, type_: GraphQLObjectType) -> Callable[[Any], bool] | None:
        check = type_.is_type_of
        definition = type_.extensions.get(DEFINITION)
        if (
            check is None
            or not isinstance(definition, StrawberryObjectDefinition)
            or definition.is_type_of is not None
            or not check.__qualname__.endswith("_get_is_type_of.<locals>.is_type_of")
        ):
            return None
        return partial(_is_type_of, check, {})

    def plain_type_resolver(self, type_: GraphQLAbstractType) -> Callable[[Any], str | None] | None:
        resolve = getattr(type_.resolve_type, "__qualname__", "")
        definition = type_.extensions.get(DEFINITION)
        classes: dict[type, str] = {}
        if isinstance(type_, GraphQLUnionType):
            if not resolve.endswith(".get_type_resolver.<locals>._resolve_union_type"):
                return None
            # The union's resolver takes the first of its types whose definition is the object's.
            for member in type_.types:
                found = _exact(member)
                if found is not None:
                    classes.setdefault(found.origin, member.name)
        elif isinstance(type_, GraphQLInterfaceType):
            if (
                not isinstance(definition, StrawberryObjectDefinition)
                or definition.resolve_type is not None
                or not resolve.endswith("._get_resolve_type.<locals>.resolve_type")
            ):
                return None
            # The interface's resolver names the definition of an object that is an instance.
            for possible in self.schema.get_possible_types(type_):
                found = _exact(possible)
                if (
                    found is not None
                    and found.name == possible.name
                    and issubclass(found.origin, definition.origin)
                ):
                    classes[found.origin] = found.name
        return partial(_resolve, classes)

    def leaf_memo(self, type_: GraphQLLeafType) -> Mapping[type, Mapping[Any, Any]]:
        members = getattr(type_, "wrapped_cls", None)
        if not (
            isinstance(type_, CustomGraphQLEnumType)
            and isinstance(members, type)
            and issubclass(members, Enum)
            and is_plain_class(members)
        ):
            return {}
        outputs: dict[Any, Any] = {}
        for member in members:
            try:
                output = type_.coerce_output_value(member)
            except Exception:  # noqa: S112 (the plan lets the type raise it again)
                continue
            if output is not None and output is not Undefined:  # type: ignore[comparison-overlap]
                outputs[member] = output
        return {members: outputs}

    def _has_exception_handlers(self, field: StrawberryField) -> bool:
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        handlers = getattr(
            getattr(strawberry_schema, "schema_converter", None),
            "_get_field_exception_handlers",
            None,
        )
        return handlers is None or bool(handlers(field))


_GETTER = "__xhsz_attribute_getter__"


def attribute_resolver(path: str) -> Callable[[Any], Any]:
    """A resolver for a field that is its parent's attribute ``path`` (dotted, as
    ``operator.attrgetter`` reads it): a plan reads it with the ``attrgetter``, no Python call per
    value."""
    getter = attrgetter(path)

    def resolve(self: Any) -> Any:
        return getter(self)

    resolve.__name__ = resolve.__qualname__ = "read_" + path.replace(".", "_")
    setattr(resolve, _GETTER, getter)
    return resolve


def _exact(type_: GraphQLObjectType) -> StrawberryObjectDefinition | None:
    """The type's definition if it is no generic and no specialisation of one."""
    definition = type_.extensions.get(DEFINITION)
    if (
        isinstance(definition, StrawberryObjectDefinition)
        and not definition.is_graphql_generic
        and definition.concrete_of is None
    ):
        return definition
    return None


def _read(read: Callable[[Any, str], Any], name: str, source: Any) -> Any:
    return read(source, name)


def _is_type_of(check: Callable[..., Any], known: dict[type, Any], value: Any) -> Any:
    """Strawberry's ``is_type_of``, once per class for objects that are not cast."""
    if getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None:
        return check(value, None)
    cls = type(value)
    found = known.get(cls)
    if found is None:
        found = known[cls] = check(value, None)
    return found


def _resolve(classes: dict[type, str], value: Any) -> str | None:
    if getattr(value, TYPE_CAST_ATTRIBUTE, None) is not None:
        return None
    return classes.get(type(value))
