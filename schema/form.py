"""The 暂存 form from the server: ``coordinationForm`` publishes the rules a save applies
(``db.form.FIELD_RULES``, the attachment limits), and ``validateCoordination`` runs a save's own
checks (``db.coordinations.check_save``) without writing, for live red hints."""

from typing import Annotated

import strawberry
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from db import coordinations, file_types
from db.errors import DomainError
from db.form import FieldRule, form_fields
from db.models import REQUIRED_SLOTS, AttachmentSlot, CoordinationType
from schema.context import Context
from schema.coordinations import SAVE_ROLE, save_target
from schema.inputs import SaveCoordinationInput
from schema.messages import FIELD_LABELS, FORMAT_HINTS, SLOT_LABELS, Language, pick
from schema.payloads import UserError, check_role, user_errors


@strawberry.type(
    description="表单字段 (form field): one field of the 暂存 form, with the rules a save "
    "applies to it."
)
class FormField:
    name: str = strawberry.field(
        description="字段名: the SaveCoordinationInput field, as the client sends it (camelCase)."
    )
    label: str = strawberry.field(
        description="字段名称: what the form calls the field, in the caller's language."
    )
    required: bool = strawberry.field(
        description="必填: a save refuses an empty or blank value (REQUIRED). agreementCode may "
        "still be left empty when the certificate registry knows the certificate (see its hint)."
    )
    max_length: int | None = strawberry.field(
        description="最大长度: at most this many characters (Unicode code points, after trimming); "
        "longer is TOO_LONG for free text and INVALID_FORMAT for a number. Null: no limit of its "
        "own (codes chosen from reference data)."
    )
    pattern: str | None = strawberry.field(
        description="格式 (正则表达式): the ECMAScript regular expression (anchored, valid with or "
        "without the u and v flags, so usable as an HTML pattern) that the value must match once "
        "trimmed and upper-cased, else INVALID_FORMAT. Null: no fixed format. Every field also "
        "refuses control, direction and other invisible characters (INVALID_FORMAT naming the "
        "character)."
    )
    hint: str = strawberry.field(
        description="填写说明: the expected format in words, in the caller's language (the text "
        "an INVALID_FORMAT message states)."
    )
    depends_on: list[str] = strawberry.field(
        description="依赖字段: fields whose value decides what this one may hold (an agreement's "
        "partner countries, a country's ports, the registry's agreement for a certificate); "
        "validate again when they change."
    )


@strawberry.type(
    description="附件规则 (attachment slot rule): what one attachment slot accepts and whether "
    "submitting needs it."
)
class AttachmentSlotRule:
    slot: AttachmentSlot = strawberry.field(description="附件类型: the slot.")
    label: str = strawberry.field(
        description="附件名称: the slot's name, in the caller's language."
    )
    required_to_submit: bool = strawberry.field(
        description="申报必需: submitting without a file here is ATTACHMENT_REQUIRED, on the "
        'path ["attachments", slot].'
    )
    max_bytes: int = strawberry.field(
        description="大小上限: the largest file, in bytes (FILE_TOO_LARGE above)."
    )
    allowed_content_types: list[str] = strawberry.field(
        description="允许的格式: the content types accepted, as sniffed from the bytes "
        "(FILE_TYPE_NOT_ALLOWED otherwise)."
    )
    max_pdf_bytes: int = strawberry.field(
        description="PDF大小上限: the largest PDF, in bytes (PDF_TOO_LARGE above)."
    )


@strawberry.type(
    name="CoordinationForm",
    description="协调申请表单 (the form of one request type): its fields in display order and "
    "its attachment slots, with the rules a save and a submit apply.",
)
class CoordinationFormRules:
    type: CoordinationType = strawberry.field(description="协调单类型: the type this form is for.")
    fields: list[FormField] = strawberry.field(
        description="表单字段: the type's fields, in the seed's order."
    )
    attachment_slots: list[AttachmentSlotRule] = strawberry.field(
        description="附件: the attachment slots, in their order."
    )


def form_field(rule: FieldRule, language: Language) -> FormField:
    name = to_camel_case(rule.name)
    return FormField(
        name=name,
        label=pick(FIELD_LABELS[name], language),
        required=True,
        max_length=rule.length_limit,
        pattern=rule.pattern,
        hint=pick(FORMAT_HINTS[rule.hint], language),
        depends_on=[to_camel_case(other) for other in rule.depends_on],
    )


def slot_label(slot: AttachmentSlot, language: Language) -> str:
    label = pick(SLOT_LABELS[slot.value], language)
    return label[:1].upper() + label[1:]  # the catalogue's English is for inside a sentence


@strawberry.type
class FormQuery:
    @strawberry.field(
        description="协调申请表单: the fields of a request type's form with the rules a save "
        "applies (required, length, pattern, hint), and its attachment slots with their limits, "
        "in the caller's language: draw the form without a copy of the rules."
    )
    async def coordination_form(
        self,
        info: Info[Context, None],
        type: Annotated[
            CoordinationType, strawberry.argument(description="协调单类型: the request type.")
        ],
    ) -> CoordinationFormRules:
        context = info.context
        await context.require_viewer()
        limits = context.settings.file_limits
        return CoordinationFormRules(
            type=type,
            fields=[form_field(rule, context.language) for rule in form_fields(type)],
            attachment_slots=[
                AttachmentSlotRule(
                    slot=slot,
                    label=slot_label(slot, context.language),
                    required_to_submit=slot in REQUIRED_SLOTS,
                    max_bytes=limits.max_bytes,
                    allowed_content_types=list(file_types.EXTENSIONS),
                    max_pdf_bytes=limits.max_pdf_bytes,
                )
                for slot in AttachmentSlot
            ],
        )

    @strawberry.field(
        description="校验 (live red hints): the errors saveCoordination would return for this "
        "input — the same codes, paths, messages and order, from the same checks — without "
        "saving anything (no row, no coordination number). Empty: the save would succeed."
    )
    async def validate_coordination(
        self,
        info: Info[Context, None],
        input: Annotated[
            SaveCoordinationInput,
            strawberry.argument(
                description="暂存表单: the form exactly as saveCoordination would get it."
            ),
        ],
    ) -> list[UserError]:
        context = info.context
        viewer = await context.require_viewer()
        try:
            check_role(viewer, SAVE_ROLE)
            async with context.reading() as session:
                await coordinations.check_save(
                    session=session,
                    viewer=viewer,
                    form=input.form(),
                    coordination_id=save_target(input),
                    expected_version=input.expected_version,
                )
        except DomainError as error:
            # The answer asked for, not a refusal: not counted as the request's user errors.
            return user_errors(error.problems, ("input",), context, counted=False)
        return []
