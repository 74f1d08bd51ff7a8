"""Operation costs, remembered per document and the page sizes its variables ask for.

The cost of an operation (``schema.limits.operation_cost``) depends on its document and on the
variables that its ``first``/``last`` arguments read; any other variable (a filter, a cursor, an
input) leaves it unchanged. So a cost is kept under the document's text, the operation name and
the values of just those variables: the next page of a list, or a list with another filter, is
priced once. Values that are not plain scalars are priced afresh every time (they fail coercion
anyway).
"""

from collections.abc import Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLSchema,
    VariableNode,
    Visitor,
    visit,
)

from schema.limits import PAGE_ARGUMENTS, operation_cost

SCALARS = (int, str, float, bool, type(None))


class _PageVariables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.inside = 0

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if node.name.value in PAGE_ARGUMENTS:
            self.inside += 1

    def leave_argument(self, node: ArgumentNode, *_args: Any) -> None:
        if node.name.value in PAGE_ARGUMENTS:
            self.inside -= 1

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        if self.inside:
            self.names.add(node.name.value)


def page_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables read by any ``first``/``last`` argument of the document (a superset of
    those ``operation_cost`` reads, whichever field and operation they belong to)."""
    visitor = _PageVariables()
    visit(document, visitor)
    return tuple(sorted(visitor.names))


class Costs:
    """``operation_cost`` with a bounded memory of ``size`` entries (oldest dropped)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._page_variables: dict[str, tuple[str, ...]] = {}
        self._costs: dict[tuple[Any, ...], int] = {}

    def cost(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        source = document.loc.source.body if document.loc else None
        if source is None:
            return operation_cost(schema, document, operation_name, variables)
        names = self._page_variables.get(source)
        if names is None:
            names = self._remember(self._page_variables, source, page_variables(document))
        values = tuple((variables or {}).get(name) for name in names)
        if not all(isinstance(value, SCALARS) for value in values):
            return operation_cost(schema, document, operation_name, variables)
        # The value's type is part of the key: 1, 1.0 and True are equal in Python.
        key = (source, operation_name, values, tuple(type(value) for value in values))
        cost = self._costs.get(key)
        if cost is None:
            cost = operation_cost(schema, document, operation_name, variables)
            self._remember(self._costs, key, cost)
        return cost

    def _remember(self, memory: dict[Any, Any], key: Any, value: Any) -> Any:
        if len(memory) >= self.size:
            memory.pop(next(iter(memory)))
        memory[key] = value
        return value
