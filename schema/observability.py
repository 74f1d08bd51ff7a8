"""Names each operation for the access log and metrics after the schema's root fields.

A client-chosen operation name would let clients mint unbounded metric labels; the root fields of
a validated document are bounded by the schema: ``query:coordinations``, ``mutation:login``, and
``query:viewer+`` when more root fields follow.
"""

from collections.abc import Iterator

from graphql import FieldNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from schema.context import Context


def operation_label(root_fields: list[str], operation_type: str) -> str:
    if not root_fields:
        return f"{operation_type}:fragment"
    return f"{operation_type}:{root_fields[0]}" + ("+" if len(root_fields) > 1 else "")


class OperationLabel(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        operation = (
            get_operation_ast(execution.graphql_document, execution.operation_name)
            if execution.graphql_document
            else None
        )
        if isinstance(context, Context) and operation is not None:
            fields = [
                selection.name.value
                for selection in operation.selection_set.selections
                if isinstance(selection, FieldNode)
            ]
            context.observation.operation = operation_label(fields, operation.operation.value)
        yield
