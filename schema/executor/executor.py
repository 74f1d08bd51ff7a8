"""The executor: graphql-core's, completing plain subtrees with cached plans.

When graphql-core is about to complete a field's value (``complete_value`` called by
``execute_field``), the executor looks for the plan of that field in that document — keyed by the
field's nodes (documents are cached by the parse cache, so their nodes are the same objects from one
request to the next), its parent and return type, and the values of the variables its ``@skip``/
``@include`` directives read — compiles it on first use, and runs it. A field whose subtree is not
plain data has a plan of None: graphql-core completes it, and the fields below try their own plans.
A plan that meets an awaitable hands the value back to graphql-core (``Fallback``).

Plans assume what graphql-core and Strawberry provide: the executor's ``is_awaitable`` is
graphql-core's definition (Strawberry's ``optimized_is_awaitable`` is), so that a value's class can
tell that it is not awaitable (``run.is_plain_class``), and readers, ``is_type_of`` and
``resolve_type`` have no side effects (graphql-core reads again what a plan hands back).
"""

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from threading import Lock
from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    DirectiveLocation,
    FieldNode,
    GraphQLAbstractType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLSkipDirective,
    get_named_type,
    is_leaf_type,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path

from schema.executor.compiler import Compiler, NotPlain, directive_variables, site_of
from schema.executor.run import Complete, Fallback, Run

PLAN_CACHE_SIZE = 1024
"""Fields (with their documents) whose plans are kept, least recently used dropped first."""

_MAX_OUTCOMES = 16  # plans kept per field, one per outcome of its @skip/@include variables
_MISSING = object()
_EXECUTABLE = frozenset(
    (
        DirectiveLocation.QUERY,
        DirectiveLocation.MUTATION,
        DirectiveLocation.SUBSCRIPTION,
        DirectiveLocation.FIELD,
        DirectiveLocation.FRAGMENT_DEFINITION,
        DirectiveLocation.FRAGMENT_SPREAD,
        DirectiveLocation.INLINE_FRAGMENT,
        DirectiveLocation.VARIABLE_DEFINITION,
        DirectiveLocation.FRAGMENT_VARIABLE_DEFINITION,
    )
)


@dataclass
class _Field:
    nodes: list[FieldNode]  # held, so that the ids in the key stay theirs
    variables: tuple[str, ...]
    plans: dict[tuple[Any, ...], Complete | None] = field(default_factory=dict)


class _Plans:
    """The plans of one schema."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.fields: OrderedDict[tuple[Any, ...], _Field] = OrderedDict()
        self.lock = Lock()
        self.composite: dict[GraphQLOutputType, bool] = {}
        # An executable directive other than @skip/@include (@defer, @stream, one of the
        # application's) changes what graphql-core does: documents of such a schema are not planned.
        self.usable = all(
            directive in (GraphQLSkipDirective, GraphQLIncludeDirective)
            or not _EXECUTABLE.intersection(directive.locations)
            for directive in schema.directives
        )

    def is_composite(self, type_: GraphQLOutputType) -> bool:
        """Whether a value of this type has fields below it (only those are worth a plan)."""
        composite = self.composite.get(type_)
        if composite is None:
            composite = self.composite[type_] = not is_leaf_type(get_named_type(type_))
        return composite


# Per schema, per executor class: plans follow the class's hooks.
_schemas: "WeakKeyDictionary[GraphQLSchema, dict[type, _Plans]]" = WeakKeyDictionary()


class CompiledExecution(Executor[Any]):
    """graphql-core's ``Executor`` with compiled plans for plain subtrees.

    A mixin: put it before the executor class it refines. The ``plain_…`` and ``leaf_memo`` hooks
    say what is plain data; by default nothing is, and every value is graphql-core's to complete.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        by_class = _schemas.get(self.schema)
        if by_class is None:
            by_class = _schemas[self.schema] = {}
        plans = by_class.get(type(self))
        if plans is None:
            plans = by_class[type(self)] = _Plans(self.schema)
        self._plans: _Plans | None = (
            plans
            if plans.usable
            and self.error_propagation
            and (self.middleware_manager is None or not self.middleware_manager.middlewares)
            else None
        )

    # --- what is plain data (the integration's hooks) ------------------------------------------

    def plain_reader(
        self, parent_type: GraphQLObjectType, field_def: GraphQLField
    ) -> Callable[[Any], Any] | None:
        """The field's value read from its parent, as its resolver would return it, with no
        resolve info, arguments or extensions; None if the field needs its resolver."""
        return None

    def plain_is_type_of(self, type_: GraphQLObjectType) -> Callable[[Any], bool] | None:
        """The type's ``is_type_of`` without a resolve info, if it needs none."""
        return None

    def plain_type_resolver(self, type_: GraphQLAbstractType) -> Callable[[Any], str | None] | None:
        """The name the type's ``resolve_type`` gives a value, where it is known without a resolve
        info (None where it is not: the plan then calls ``resolve_type``)."""
        return None

    def leaf_memo(self, type_: GraphQLLeafType) -> Mapping[type, Mapping[Any, Any]]:
        """For some exact classes, their values' ``coerce_output_value``, computed once; looked up
        by identity, so the values must live as long as the schema (an enum's members do)."""
        return {}

    # --- graphql-core's hook --------------------------------------------------------------------

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: "GraphQLResolveInfo[Any]",
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        # Only a field's whole value (not a list item, not the inside of a non-null type), and not
        # in incremental delivery, where graphql-core tracks positions of its own.
        if (
            self._plans is not None
            and position_context is None
            and path is info.path
            and return_type is info.return_type
            and self._plans.is_composite(return_type)
        ):
            plan = self._plan(self._plans, return_type, field_details_list, info.parent_type)
            if plan is not None:
                run = Run(self)
                try:
                    completed = plan(result, path, run)
                except Fallback:
                    self._plans = None  # graphql-core completes the rest of this execution
                except Exception:
                    run.commit()
                    raise
                else:
                    run.commit()
                    return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plan(
        self,
        plans: _Plans,
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        parent_type: GraphQLObjectType,
    ) -> Complete | None:
        nodes = [detail.node for detail in details]
        key = (parent_type, return_type, *map(id, nodes))
        with plans.lock:  # (an executor may run in threads of its own: keep the order sound)
            found = plans.fields.get(key)
            if found is None:
                found = _Field(nodes, directive_variables(nodes, self.fragments))
                plans.fields[key] = found
                if len(plans.fields) > PLAN_CACHE_SIZE:
                    plans.fields.popitem(last=False)
            else:
                plans.fields.move_to_end(key)
        coerced = self.variable_values.coerced
        outcome = tuple(coerced.get(name, _MISSING) for name in found.variables)
        if outcome in found.plans:
            return found.plans[outcome]
        plan: Complete | None
        try:
            plan = Compiler(self).plan(return_type, site_of(parent_type, details))
        except NotPlain:
            plan = None
        if len(found.plans) < _MAX_OUTCOMES:
            found.plans[outcome] = plan
        return plan


def plan_counts(schema: GraphQLSchema) -> tuple[int, int]:
    """How many cached plans of this schema complete their field, and how many leave it to
    graphql-core (for tests and diagnostics)."""
    outcomes = [
        plan
        for plans in _schemas.get(schema, {}).values()
        for found in plans.fields.values()
        for plan in found.plans.values()
    ]
    planned = sum(plan is not None for plan in outcomes)
    return planned, len(outcomes) - planned
