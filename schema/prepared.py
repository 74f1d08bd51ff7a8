"""Prepared operations: what the second and later requests of one document skip.

The first request of a document goes the whole way through Strawberry: parsing, the operation type
check, validation (our limits, the standard rules and any rule an extension adds), the variables'
refusals, execution. When its document passes validation, ``QueryGuard`` records it here under its
text and operation name. A later request with the same text and name runs only what depends on
the request: the variables' refusals (cost, unstorable strings), the operation's label for the log,
graphql-core's execution with the compiled executor, and the logging of its errors: the steps
Strawberry would run, in its order, without its per-request extension runner, execution context
and hooks around them (about a fifth of a list page's CPU).

Nothing is recorded that the full way did not accept with this schema's rules, so a prepared
operation never answers differently; anything unusual (a batch, an upload, GET, persisted-query
extensions, a document seen for the first time) takes the full way.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, GraphQLSchema, OperationType, execute
from graphql.execution.executor import Executor
from graphql.utilities import get_operation_ast
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.await_maybe import await_maybe

from schema.context import Context

# What a POST may run (Strawberry's ``OperationType.from_http("POST")`` less subscriptions, which
# have their own transport).
POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


def operation_label(root_fields: list[str], operation_type: str) -> str:
    """``query:coordinations``, ``mutation:login``, ``query:viewer+`` when more root fields follow:
    bounded by the schema, unlike a client-chosen operation name."""
    if not root_fields:
        return f"{operation_type}:fragment"
    return f"{operation_type}:{root_fields[0]}" + ("+" if len(root_fields) > 1 else "")


def label_of(document: DocumentNode, operation_name: str | None) -> str | None:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    fields = [
        selection.name.value
        for selection in operation.selection_set.selections
        if isinstance(selection, FieldNode)
    ]
    return operation_label(fields, operation.operation.value)


@dataclass(frozen=True, slots=True)
class Prepared:
    document: DocumentNode
    operation_name: str | None
    operation_type: OperationType
    label: str


class PreparedDocuments:
    """Validated documents by (text, operation name), at most ``size`` of them (oldest dropped)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: dict[tuple[str, str | None], Prepared] = {}

    def get(self, query: str, operation_name: str | None) -> Prepared | None:
        return self._entries.get((query, operation_name))

    def record(self, query: str, document: DocumentNode, operation_name: str | None) -> None:
        key = (query, operation_name)
        if key in self._entries:
            return
        operation = get_operation_ast(document, operation_name)
        label = label_of(document, operation_name)
        if operation is None or label is None:
            return
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = Prepared(document, operation_name, operation.operation, label)


RequestRefusals = Callable[
    [GraphQLSchema, DocumentNode, str | None, Mapping[str, Any] | None], list[GraphQLError]
]


@dataclass(frozen=True, slots=True)
class PreparedExecution:
    """Runs prepared operations of one schema (see the module's docstring)."""

    schema: GraphQLSchema
    refusals: RequestRefusals
    process_errors: Callable[[list[GraphQLError], Any], None]
    executor_class: type[Executor[Any]]

    async def execute(
        self, prepared: Prepared, variables: dict[str, Any] | None, context: Context
    ) -> ExecutionResult:
        try:
            errors = self.refusals(
                self.schema, prepared.document, prepared.operation_name, variables
            )
            if errors:
                self.process_errors(errors, _Execution(context))
                return PreExecutionError(data=None, errors=errors)
            context.observation.operation = prepared.label
            result = await await_maybe(
                execute(
                    self.schema,
                    prepared.document,
                    variable_values=variables,
                    operation_name=prepared.operation_name,
                    context_value=context,
                    executor_class=self.executor_class,
                    is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                    operation_extensions=None,
                )
            )
        except Exception as error:  # as Strawberry: an error result, logged
            coerced = error if isinstance(error, GraphQLError) else GraphQLError(str(error))
            if coerced is not error:
                coerced.original_error = error
            self.process_errors([coerced], _Execution(context))
            return PreExecutionError(data=None, errors=[coerced])
        if result.errors:
            self.process_errors(result.errors, _Execution(context))
        return ExecutionResult(data=result.data, errors=result.errors)


@dataclass(frozen=True, slots=True)
class _Execution:
    """What ``Schema.process_errors`` reads of Strawberry's execution context."""

    context: Context
