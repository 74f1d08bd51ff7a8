"""Query limits, checked before anything runs: tokens, depth, aliases, directives and cost.

A refused query gets one GraphQL error naming the limit it hit (``extensions.code`` is
``QUERY_LIMIT_EXCEEDED``, with ``limit``, ``max`` and, where measured, ``found``). They are checked
by ``schema/guard.py`` before the standard validation rules run.

- Tokens: the parser stops counting at the limit (a 1 MiB string literal is still one token; the
  request body limit bounds that).
- Depth: fields along the longest path, fragments included (``{ viewer { username } }`` is 2).
  Introspection (``__schema``, ``__type``) may go exactly as deep as GraphiQL's own introspection
  query, which is deeper than any query of ours; graphql-core's ``MaxIntrospectionDepthRule``
  refuses the circular ``fields { type { fields { type … } } }`` pattern that stays within it.
- Aliases and directives: counted as they would run, so a fragment spread three times counts
  three times.
- Repeated fields: how often one field (response key) is selected in one selection set, inline
  fragments included. Validation compares such fields pairwise, so 500 copies of
  ``viewer { username }`` (2,000 tokens) would cost a second of CPU; no real query repeats a
  field more than a handful of times (once per member of a union, say).
- Cost: every field costs 1, and a field taking ``first``/``last`` multiplies the cost of what is
  selected under it by that page size (the argument as sent, else its default, else
  ``DEFAULT_PAGE_SIZE``). Lists without paging arguments hold what the data holds and count once.
  A page of 100 requests with their nested lists costs about 100 × the fields selected per request;
  a page inside a page costs the product of both sizes. Cost depends on variables, so it is the one
  check made for every request rather than once per document.

Fragments are measured once each (memoised), so a document whose fragments spread each other
twice over cannot make the measuring itself exponential.
"""

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    MaxIntrospectionDepthRule,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    TokenKind,
    get_introspection_query,
    get_named_type,
    get_operation_ast,
    is_composite_type,
    parse,
    value_from_ast,
    value_from_ast_untyped,
)
from graphql.language.lexer import Lexer
from graphql.validation.rules.max_introspection_depth_rule import MAX_LIST_DEPTH

from config.limits import QueryLimits
from schema.messages import Text
from schema.paging import DEFAULT_FIRST
from schema.refusals import (
    CIRCULAR_INTROSPECTION,
    MEASURES,
    OVER_LIMIT,
    QUERY_REFUSED,
    TOO_MANY_TOKENS,
    Refusal,
)

QUERY_LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
PAGE_ARGUMENTS = ("first", "last")
DEFAULT_PAGE_SIZE = DEFAULT_FIRST

# GraphiQL 3.8 (the IDE Strawberry serves) asks graphql-js's getIntrospectionQuery with input value
# deprecation; graphql-core builds the same document (TypeRef nested nine ofType levels deep).
GRAPHIQL_INTROSPECTION_QUERY = get_introspection_query(
    descriptions=True, input_value_deprecation=True
)


class QueryLimitExceeded(Refusal):
    """ "Query refused: " and why (``reason``, written with ``max``, ``found`` and ``what``)."""

    def __init__(
        self,
        limit: str,
        maximum: int,
        reason: Text,
        *,
        found: int | None = None,
        nodes: Any = None,
    ) -> None:
        extensions: dict[str, Any] = {"code": QUERY_LIMIT_EXCEEDED, "limit": limit, "max": maximum}
        if found is not None:
            extensions["found"] = found
        zh, en = QUERY_REFUSED
        super().__init__(
            (zh.format(reason=reason[0]), en.format(reason=reason[1])),
            {"max": maximum, "found": found, "what": MEASURES.get(limit, ("", ""))},
            extensions=extensions,
            nodes=nodes,
        )

    @classmethod
    def over(cls, limit: str, found: int, maximum: int) -> "QueryLimitExceeded":
        return cls(limit, maximum, OVER_LIMIT, found=found)


# --- shape: depth, aliases, directives, repeated fields ---------------------------------------


@dataclass(frozen=True)
class Shape:
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    repeats: int = 0  # the most times one field is selected in one selection set


@dataclass(frozen=True)
class OperationShape:
    depth: int
    introspection_depth: int
    aliases: int
    directives: int
    repeats: int


EMPTY = Shape()


class _Shapes:
    """Measures the operations of one document, each fragment once."""

    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, Shape] = {}
        self.root_measured: dict[str, tuple[int, int]] = {}
        self.entered: set[str] = set()

    def operation(self, operation: OperationDefinitionNode) -> OperationShape:
        shape = self.selections(operation.selection_set)
        depth, introspection_depth = self.root_depths(operation.selection_set)
        own = len(operation.directives or ()) + sum(
            len(v.directives or ()) for v in operation.variable_definitions or ()
        )
        return OperationShape(
            depth, introspection_depth, shape.aliases, shape.directives + own, shape.repeats
        )

    def selections(self, selection_set: SelectionSetNode | None) -> Shape:
        if selection_set is None:
            return EMPTY
        depth = aliases = directives = 0
        keys = Counter(self.response_keys(selection_set))
        repeats = max(keys.values(), default=0)
        for selection in selection_set.selections:
            directives += len(selection.directives or ())
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                depth = max(depth, 1 + inner.depth)
                aliases += selection.alias is not None
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                depth = max(depth, inner.depth)
            else:
                inner = self.selections(selection.selection_set)  # type: ignore[attr-defined]
                depth = max(depth, inner.depth)
            aliases += inner.aliases
            directives += inner.directives
            repeats = max(repeats, inner.repeats)
        return Shape(depth, aliases, directives, repeats)

    def response_keys(self, selection_set: SelectionSetNode) -> Iterator[str]:
        """The response keys of a selection set, inline fragments flattened as validation
        compares them (named fragments are compared once per pair, so they are left out)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield (selection.alias or selection.name).value
            elif isinstance(selection, InlineFragmentNode):
                yield from self.response_keys(selection.selection_set)

    def fragment(self, name: str) -> Shape:
        if name not in self.measured:
            definition = self.fragments.get(name)
            if definition is None or name in self.entered:
                return EMPTY  # unknown or cyclic: the standard rules say so
            self.entered.add(name)
            inner = self.selections(definition.selection_set)
            self.entered.discard(name)
            own = len(definition.directives or ())
            self.measured[name] = Shape(
                inner.depth, inner.aliases, inner.directives + own, inner.repeats
            )
        return self.measured[name]

    def root_depths(self, selection_set: SelectionSetNode) -> tuple[int, int]:
        """The depth of the deepest ordinary root field and of the deepest introspection one."""
        plain = introspection = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                depth = 1 + self.selections(selection.selection_set).depth
                if selection.name.value in INTROSPECTION_FIELDS:
                    introspection = max(introspection, depth)
                else:
                    plain = max(plain, depth)
                continue
            if isinstance(selection, FragmentSpreadNode):
                inner = self.root_fragment(selection.name.value)
            else:
                inner = self.root_depths(selection.selection_set)  # type: ignore[attr-defined]
            plain, introspection = max(plain, inner[0]), max(introspection, inner[1])
        return plain, introspection

    def root_fragment(self, name: str) -> tuple[int, int]:
        if name not in self.root_measured:
            definition = self.fragments.get(name)
            if definition is None or name in self.entered:
                return 0, 0
            self.entered.add(name)
            self.root_measured[name] = self.root_depths(definition.selection_set)
            self.entered.discard(name)
        return self.root_measured[name]


def operations(document: DocumentNode) -> Iterator[OperationDefinitionNode]:
    return (d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def introspection_depth(query: str) -> int:
    document = parse(query)
    shapes = _Shapes(document)
    return max(
        shapes.operation(operation).introspection_depth for operation in operations(document)
    )


GRAPHIQL_INTROSPECTION_DEPTH = introspection_depth(GRAPHIQL_INTROSPECTION_QUERY)


def shape_refusals(document: DocumentNode, limits: QueryLimits) -> list[GraphQLError]:
    """The limits of ``document``'s shape that its first offending operation exceeds."""
    shapes = _Shapes(document)
    for operation in operations(document):
        shape = shapes.operation(operation)
        measured = (
            ("depth", shape.depth, limits.max_depth),
            ("introspectionDepth", shape.introspection_depth, GRAPHIQL_INTROSPECTION_DEPTH),
            ("aliases", shape.aliases, limits.max_aliases),
            ("directives", shape.directives, limits.max_directives),
            ("repeatedFields", shape.repeats, limits.max_repeated_fields),
        )
        refusals: list[GraphQLError] = [
            QueryLimitExceeded.over(limit, found, maximum)
            for limit, found, maximum in measured
            if found > maximum
        ]
        if refusals:
            return refusals
    return []


class CircularIntrospection(MaxIntrospectionDepthRule):
    """graphql-core's rule against ``fields { type { fields … } } }``, reporting as a limit."""

    def report_error(self, error: GraphQLError) -> None:
        allowed = MAX_LIST_DEPTH - 1
        super().report_error(
            QueryLimitExceeded(
                "circularIntrospection", allowed, CIRCULAR_INTROSPECTION, nodes=error.nodes
            )
        )


# --- cost ----------------------------------------------------------------------------------------


class _Costs:
    """The cost of one operation with its variables, each fragment priced once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        defaults = {
            d.variable.name.value: value_from_ast_untyped(d.default_value)
            for d in operation.variable_definitions or ()
            if d.default_value is not None
        }
        self.variables = {**defaults, **(variables or {})}
        self.priced: dict[str, int] = {}
        self.entered: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None or not is_composite_type(parent):
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = self.schema.get_field(parent, selection.name.value)
                if field is None:
                    continue
                inner = self.selections(selection.selection_set, get_named_type(field.type))
                total += 1 + self.page_size(field, selection) * inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, scope)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> int:
        if name not in self.priced:
            definition = self.fragments.get(name)
            if definition is None or name in self.entered:
                return 0
            self.entered.add(name)
            scope: GraphQLNamedType | None = self.schema.get_type(
                definition.type_condition.name.value
            )
            self.priced[name] = self.selections(definition.selection_set, scope)
            self.entered.discard(name)
        return self.priced[name]

    def page_size(self, field: GraphQLField, node: FieldNode) -> int:
        """What a field with ``first``/``last`` multiplies its selection by; 1 for other fields."""
        names = [name for name in PAGE_ARGUMENTS if name in field.args]
        if not names:
            return 1
        sent = [
            _size(
                value_from_ast(argument.value, field.args[argument.name.value].type, self.variables)
            )
            for argument in node.arguments or ()
            if argument.name.value in names
        ]
        defaults = [_size(field.args[name].default_value) for name in names]
        for sizes in (sent, defaults):
            if found := [size for size in sizes if size is not None]:
                return max(found)
        return DEFAULT_PAGE_SIZE


def _size(value: object) -> int | None:
    """A page size the request or the schema gave; None for anything else (null, a string…)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> int:
    """The cost of the operation that would run (0 when none can: execution says why)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    cost: int = _Costs(schema, document, operation, variables).selections(
        operation.selection_set, root
    )
    return cost


def cost_refusals(cost: int, limits: QueryLimits) -> list[GraphQLError]:
    if cost > limits.max_cost:
        return [QueryLimitExceeded.over("cost", cost, limits.max_cost)]
    return []


# --- tokens --------------------------------------------------------------------------------------


def exceeds_tokens(query: str, maximum: int) -> bool:
    """Whether ``query`` has more than ``maximum`` tokens (asked when the parser gave up)."""
    lexer = Lexer(Source(query))
    count = 0
    try:
        while lexer.advance().kind is not TokenKind.EOF:
            count += 1
            if count > maximum:
                return True
    except GraphQLSyntaxError:
        pass
    return False


def too_many_tokens(limits: QueryLimits) -> QueryLimitExceeded:
    return QueryLimitExceeded("tokens", limits.max_tokens, TOO_MANY_TOKENS)
