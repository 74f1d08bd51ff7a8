"""Names each operation for the access log and metrics after the schema's root fields.

A client-chosen operation name would let clients mint unbounded metric labels; the root fields of
a validated document are bounded by the schema: ``query:coordinations``, ``mutation:login``, and
``query:viewer+`` when more root fields follow (``schema.prepared.operation_label``).
"""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from schema.context import Context
from schema.prepared import label_of


class OperationLabel(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        label = label_of(document, execution.operation_name) if document else None
        if isinstance(context, Context) and label is not None:
            context.observation.operation = label
        yield
