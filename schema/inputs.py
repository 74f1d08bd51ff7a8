"""Mutation inputs. Form fields are nullable so that a missing one comes back as a typed
``REQUIRED`` error on its field (like the seed's red hints), never as a GraphQL validation error.
"""

from dataclasses import fields

import strawberry

from db.form import CoordinationForm
from db.models import CoordinationType
from db.status import ReceiptOutcome


@strawberry.input(description="The whole 暂存 form: a save replaces it, it does not patch it.")
class SaveCoordinationInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Omit to create a request; give it to update one."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="The version you read; a stale one is VERSION_CONFLICT."
    )
    type: CoordinationType | None = strawberry.field(
        default=None, description="Required to create; on update omit it or repeat the stored one."
    )
    certificate_no: str | None = None
    agreement_code: str | None = None
    export_declaration_no: str | None = None
    import_declaration_no: str | None = None
    import_country_code: str | None = None
    import_port_code: str | None = None
    approved_exporter_no: str | None = None
    ruling_no: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    reason: str | None = None

    def form(self) -> CoordinationForm:
        return CoordinationForm(**{f.name: getattr(self, f.name) for f in fields(CoordinationForm)})


@strawberry.input(description="A customs receipt or decision on a request.")
class RecordCustomsReceiptInput:
    coordination_no: str
    outcome: ReceiptOutcome
    remark: str | None = strawberry.field(
        default=None, description="退回原因 / 办结意见; required to return or conclude."
    )
    expected_version: int | None = None
