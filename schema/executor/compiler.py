"""Compiling a plan: the completion of one field's value, for one document and one outcome of its
``@skip``/``@include`` directives, or ``NotPlain`` when some part of it needs graphql-core.

Fields are collected by graphql-core's own ``collect_subfields``, for every object type a value may
have, with the document's fragments and this execution's variables: the plan's response keys, their
order, aliases, merged fields and type conditions are graphql-core's by construction.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLOutputType,
    InlineFragmentNode,
    SelectionSetNode,
    TypeNameMetaFieldDef,
    VariableNode,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, FragmentDetails, collect_subfields

from schema.executor import complete as completers
from schema.executor.run import Complete, Site

if TYPE_CHECKING:
    from schema.executor.executor import CompiledExecution


class NotPlain(Exception):
    """Some value below this field is not plain data: graphql-core completes it."""


def site_of(parent_type: GraphQLObjectType, details: FieldDetailsList) -> Site:
    name = details[0].node.name.value
    field_def = parent_type.fields.get(name)
    if field_def is None:
        raise NotPlain(name)
    return Site(parent_type, field_def, details, [detail.node for detail in details])


class Compiler:
    """Compiles for one execution (its fragments and variables); the plan is valid for every
    execution of the same document whose ``@skip``/``@include`` variables are the same."""

    def __init__(self, executor: "CompiledExecution") -> None:
        self.executor = executor

    def plan(self, return_type: GraphQLOutputType, site: Site) -> Complete:
        try:
            return self.complete(return_type, site, 0)
        except GraphQLError as error:  # collecting fields failed: graphql-core will say how
            raise NotPlain(error.message) from None

    def complete(
        self, type_: GraphQLOutputType, site: Site, depth: int, null: str | None = None
    ) -> Complete:
        """``null``: the error to raise for a null, if the type is non-null (graphql-core's
        ``complete_value`` only ever sees a null inside a non-null type where the value is null)."""
        executor = self.executor
        if is_non_null_type(type_):
            return self.complete(type_.of_type, site, depth, site.null_message())
        if is_list_type(type_):
            item_type = type_.of_type
            return completers.listing(
                self.complete(item_type, site, depth + 1),
                self.outputs(item_type),
                is_non_null_type(item_type),
                site,
                null,
            )
        if is_leaf_type(type_):
            return completers.leaf(type_, self.outputs(type_), null)
        if is_abstract_type(type_):
            objects = {
                possible.name: self.object_type(possible, site, depth, None)
                for possible in executor.schema.get_possible_types(type_)
            }
            return completers.abstract_type(
                type_, site, depth, objects, executor.plain_type_resolver(type_), null
            )
        if is_object_type(type_):
            return self.object_type(type_, site, depth, null)
        raise NotPlain(str(type_))

    def outputs(self, type_: GraphQLOutputType) -> completers.Outputs:
        """A leaf type's values that are completed without a call (none for other types)."""
        if is_non_null_type(type_):
            type_ = type_.of_type
        if not is_leaf_type(type_):
            return {}
        return completers.outputs(type_, self.executor.leaf_memo(type_))

    def object_type(
        self, type_: GraphQLObjectType, site: Site, depth: int, null: str | None
    ) -> Complete:
        executor = self.executor
        grouped, defers, _forbidden = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            type_,
            site.details,
            executor.hide_suggestions,
        )
        if defers:
            raise NotPlain("@defer")
        steps = []
        for key, details in grouped.items():
            if any(d.defer_usage or d.fragment_variable_values for d in details):
                raise NotPlain(key)
            name = details[0].node.name.value
            field_def = executor.schema.get_field(type_, name)
            if field_def is None:  # graphql-core leaves the key out
                continue
            field_site = Site(type_, field_def, details, [detail.node for detail in details])
            field_type = field_def.type
            if field_def is TypeNameMetaFieldDef:
                read = None
            elif name.startswith("__") or field_def.args:
                raise NotPlain(name)
            else:
                read = executor.plain_reader(type_, field_def)
                if read is None:
                    raise NotPlain(name)
            steps.append(
                completers.Step(
                    key,
                    read,
                    self.outputs(field_type),
                    self.complete(field_type, field_site, 0),
                    is_non_null_type(field_type),
                    field_site,
                )
            )
        return completers.object_type(
            type_, site, depth, steps, executor.plain_is_type_of(type_), null
        )


def directive_variables(
    nodes: Iterable[FieldNode], fragments: dict[str, FragmentDetails]
) -> tuple[str, ...]:
    """The variables any directive below these fields reads (through every fragment, included or
    not): the only variables whose values can change which fields the plan completes."""
    names: set[str] = set()
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [node.selection_set for node in nodes if node.selection_set]
    while pending:
        for selection in pending.pop().selections:
            for directive in selection.directives or ():
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names.add(argument.value.name.value)
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if name not in seen and fragment is not None:
                    seen.add(name)
                    pending.append(fragment.definition.selection_set)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)
    return tuple(sorted(names))
