"""The one extension every operation passes before it may run: parse, validate, price.

It takes the place of Strawberry's ``ParserCache`` and ``ValidationCache``, because the parser must
carry the token limit and the limits (``schema/limits.py``) must be checked before the standard
validation rules: an abusive document never reaches the costlier rules, and never earns one error
per abuse. Standard validation errors are merged by message (ten unknown directives are one error
with ten locations) and carry ``GRAPHQL_VALIDATION_FAILED``; syntax errors ``GRAPHQL_PARSE_FAILED``.

Strings a database cannot store (with a NUL character or an unpaired surrogate) are refused too,
in literals and in variables alike, as ``BAD_USER_INPUT``: PostgreSQL rejects them, so they would
otherwise surface as unexpected errors wherever a string reaches a query (a filter, an id, a
search). That is the request-wide part of the one rule for characters in ``db.validation``; the
rest (controls, direction overrides, invisible characters) is checked per field, as
``INVALID_FORMAT`` on the field, where a value is stored.
"""

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    StringValueNode,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.language.visitor import BREAK, VisitorAction
from graphql.validation import ASTValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from config.limits import QueryLimits
from db.validation import UNSTORABLE
from schema.context import BAD_USER_INPUT
from schema.costs import Costs
from schema.limits import (
    CircularIntrospection,
    cost_refusals,
    exceeds_tokens,
    shape_refusals,
    too_many_tokens,
)
from schema.prepared import PreparedDocuments
from schema.refusals import UNSTORABLE_STRING, Refusal

GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

# Documents are cached by their text only up to this size: a single string token can be as long
# as the request body, and a thousand such entries would hold a gigabyte.
CACHEABLE_QUERY_CHARS = 16 * 1024


# --- strings ------------------------------------------------------------------------------------


def unstorable_string() -> GraphQLError:
    return Refusal(UNSTORABLE_STRING, extensions={"code": BAD_USER_INPUT})


class _UnstorableLiteral(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> VisitorAction:
        if UNSTORABLE.search(node.value):
            self.found = True
            return BREAK
        return None


def has_unstorable_literal(document: DocumentNode) -> bool:
    visitor = _UnstorableLiteral()
    visit(document, visitor)
    return visitor.found


def has_unstorable_value(value: object) -> bool:
    """Whether any string in a JSON value (keys included) is one a database cannot store."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


# --- parsing and validation -------------------------------------------------------------------


def _merge_repeated(errors: list[GraphQLError]) -> list[GraphQLError]:
    """One error per distinct message, with every location: ten unknown directives are one
    problem, not ten errors to send (graphql-cop counts them as directive overloading)."""
    groups: dict[str, list[GraphQLError]] = {}
    for error in errors:
        groups.setdefault(error.message, []).append(error)
    return [
        GraphQLError(
            message,
            [node for error in group for node in error.nodes or ()] or None,
            extensions={**(group[0].extensions or {}), "code": GRAPHQL_VALIDATION_FAILED},
        )
        for message, group in groups.items()
    ]


class QueryChecks:
    """What every request's document goes through, shared by all requests of one schema.

    Parsing and validation results are cached per document text (bounded LRU caches); the cost is
    computed per request because it depends on the variables.
    """

    def __init__(self, limits: QueryLimits, cache_size: int) -> None:
        self.limits = limits
        self.prepared = PreparedDocuments(cache_size)
        self.costs = Costs(cache_size * 4)
        self._parse_cached = lru_cache(maxsize=cache_size)(self._parse)
        self._validate_cached = lru_cache(maxsize=cache_size)(self._validate)

    def parse(self, query: str) -> DocumentNode:
        if len(query) > CACHEABLE_QUERY_CHARS:
            return self._parse(query)
        return self._parse_cached(query)

    def _parse(self, query: str) -> DocumentNode:
        try:
            return parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLSyntaxError as error:
            if exceeds_tokens(query, self.limits.max_tokens):
                raise too_many_tokens(self.limits) from None
            error.extensions = {"code": GRAPHQL_PARSE_FAILED}
            raise

    def validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        source = document.loc.source.body if document.loc else ""
        if not source or len(source) > CACHEABLE_QUERY_CHARS:
            return self._validate(schema, _BySource(document, source), rules)
        return self._validate_cached(schema, _BySource(document, source), rules)

    def _validate(
        self,
        schema: GraphQLSchema,
        keyed: "_BySource",
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        document = keyed.document
        refusals = shape_refusals(document, self.limits)
        if not refusals:
            refusals = validate(schema, document, [CircularIntrospection])
        if refusals:
            return refusals
        errors = _merge_repeated(validate_document(schema, document, rules))
        if not errors and has_unstorable_literal(document):
            errors = [unstorable_string()]
        return errors

    def request_refusals(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> list[GraphQLError]:
        """What this request's variables make of a valid document: unstorable strings, cost."""
        if has_unstorable_value(variables):
            return [unstorable_string()]
        cost = self.costs.cost(schema, document, operation_name, variables)
        return cost_refusals(cost, self.limits)


class _BySource:
    """A document as a cache key: its source text. (A ``DocumentNode`` hashes its whole tree, on
    every request; the parse cache already maps one text to one document.)"""

    __slots__ = ("document", "source")

    def __init__(self, document: DocumentNode, source: str) -> None:
        self.document = document
        self.source = source

    def __hash__(self) -> int:
        return hash(self.source)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _BySource) and other.source == self.source


class QueryGuard(SchemaExtension):
    """Parses, validates (limits first) and prices each operation before it may run.

    It takes the place of Strawberry's ``ParserCache`` and ``ValidationCache``: the parser must
    carry the token limit, and the limits must run before the standard rules.
    """

    def __init__(self, checks: QueryChecks) -> None:
        self.checks = checks

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            context.graphql_document = self.checks.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        assert document is not None, "parsed in on_parse"
        schema = context.schema._schema
        errors = self.checks.validate(schema, document, context.validation_rules)
        query = context.query
        if not errors and query is not None and len(query) <= CACHEABLE_QUERY_CHARS:
            # Under the name the request gave (``operation_name`` falls back to the document's).
            provided_name = context._provided_operation_name
            self.checks.prepared.record(query, document, provided_name)
        if not errors:
            errors = self.checks.request_refusals(
                schema, document, context.operation_name, context.variables
            )
        context.pre_execution_errors = errors
        yield
