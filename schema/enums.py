"""GraphQL enums made of the domain's enums, each value described (and, once it retires,
deprecated rather than removed).

The domain (``db``) knows nothing of GraphQL, so its enums are registered here with their
GraphQL name, a description of the enum and one of every member.
"""

import enum
from collections.abc import Mapping

import strawberry

from db.errors import ErrorCode
from db.listing import Direction, OrderField
from db.models import AttachmentSlot, CertificateKind, CoordinationType
from db.status import Action, ReceiptOutcome, Role, Status

E = type[enum.Enum]


def described_enum(
    cls: E,
    *,
    name: str,
    description: str,
    values: Mapping[enum.Enum, str],
    deprecated: Mapping[enum.Enum, str] | None = None,
) -> None:
    """Register ``cls`` as the GraphQL enum ``name``; ``values`` describes every member, and
    ``deprecated`` gives the reason of each member that clients should stop using."""
    missing = [member.name for member in cls if member not in values]
    if missing:
        raise ValueError(f"{name}: no description for {', '.join(missing)}")
    strawberry.enum(cls, name=name, description=description)
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        member = cls[value.name]
        value.description = values[member]
        value.deprecation_reason = (deprecated or {}).get(member)


described_enum(
    Status,
    name="CoordinationStatus",
    description="处理状态: where a request stands (the status table decides what each allows).",
    values={
        Status.DRAFT: "暂存: saved at least once, never submitted; the enterprise may edit, "
        "upload, submit or delete it.",
        Status.PENDING: "待办: submitted, waiting for customs to receive it; the enterprise may "
        "only withdraw it.",
        Status.WITHDRAWN: "已撤回: taken back by the enterprise while pending; editable, "
        "submittable and deletable again.",
        Status.RECEIPT_FAILED: "海关接收失败: customs could not receive it; the enterprise may fix "
        "and submit it again (not delete it).",
        Status.RETURNED: "退回: customs sent it back with a reason (customsRemark); editable, "
        "submittable and deletable.",
        Status.ACCEPTED: "已受理: customs accepted it for handling; view only.",
        Status.CONCLUDED: "已办结: customs concluded it with an opinion (customsRemark); view "
        "only.",
    },
)
described_enum(
    Action,
    name="CoordinationAction",
    description="可执行操作: what a viewer may do to a request now (allowedActions), from the "
    "status table; enterprise users get the first five, customs officers the last four.",
    values={
        Action.EDIT: "修改/暂存: save the form again (saveCoordination with its id).",
        Action.UPLOAD: "上传/删除附件: upload an attachment to an empty slot or delete one.",
        Action.SUBMIT: "申报: submit the request to customs (submitCoordination).",
        Action.WITHDRAW: "撤回: take a pending request back (withdrawCoordination).",
        Action.DELETE: "删除: hide the request; it is kept for audit (deleteCoordination).",
        Action.MARK_RECEIPT_FAILED: "海关接收失败 (customs): record that the request could not be "
        "received (recordCustomsReceipt, outcome RECEIPT_FAILED).",
        Action.ACCEPT: "受理 (customs): accept the request for handling (outcome ACCEPTED).",
        Action.RETURN: "退回 (customs): send the request back with a reason (outcome RETURNED, "
        "remark required).",
        Action.CONCLUDE: "办结 (customs): conclude the request with an opinion (outcome CONCLUDED, "
        "remark required).",
    },
)
described_enum(
    Role,
    name="Role",
    description="用户角色: what kind of user an account is.",
    values={
        Role.ENTERPRISE: "企业用户: an enterprise's user; sees and changes only its own "
        "enterprise's requests.",
        Role.CUSTOMS: "海关: a customs officer; reads every enterprise's requests and records "
        "receipts and decisions.",
    },
)
described_enum(
    CoordinationType,
    name="CoordinationType",
    description="协调单类型: the kind of request, by the evidence of origin it rests on; fixed "
    "at creation (typeLabel gives its name).",
    values={
        CoordinationType.CUSTOMS_CERTIFICATE: (
            "海关原产地证书享惠受阻协调申请: on a certificate of origin issued by China Customs "
            "(CustomsCertificateRequest)."
        ),
        CoordinationType.APPROVED_EXPORTER_DECLARATION: (
            "经核准出口商原产地声明享惠受阻协调申请: on an origin declaration made by an "
            "approved exporter (ApprovedExporterDeclarationRequest)."
        ),
        CoordinationType.RULING_DECLARATION: (
            "基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请: on an origin declaration "
            "based on a customs ruling or advance ruling (RulingDeclarationRequest)."
        ),
        CoordinationType.CCPIT_CERTIFICATE: (
            "贸促会原产地证书享惠受阻协调申请: on a certificate of origin issued by CCPIT "
            "(CcpitCertificateRequest)."
        ),
    },
)
described_enum(
    AttachmentSlot,
    name="AttachmentSlot",
    description="附件类型: the slot a file goes in; one file per slot (slotLabel gives its name).",
    values={
        AttachmentSlot.ORIGIN_PROOF: "原产地证明: proof of origin; required to submit.",
        AttachmentSlot.IMPORT_DECLARATION: "进口报关单: the import declaration; required to "
        "submit.",
        AttachmentSlot.OTHER_1: "其他1: any other evidence (optional).",
        AttachmentSlot.OTHER_2: "其他2: any other evidence (optional).",
    },
)
described_enum(
    CertificateKind,
    name="CertificateKind",
    description="证书类型: the kind of a registry certificate or declaration (kindLabel gives "
    "its name); it must match the request's type to submit.",
    values={
        CertificateKind.CUSTOMS_CO: "海关原产地证书: certificate of origin issued by China Customs "
        "(for CUSTOMS_CERTIFICATE requests).",
        CertificateKind.CCPIT_CO: "贸促会原产地证书: certificate of origin issued by CCPIT (for "
        "CCPIT_CERTIFICATE requests).",
        CertificateKind.APPROVED_EXPORTER_DECLARATION: "经核准出口商原产地声明: origin declaration "
        "by an approved exporter (for APPROVED_EXPORTER_DECLARATION requests).",
        CertificateKind.RULING_DECLARATION: "基于海关行政裁定或预裁定的原产地声明: origin "
        "declaration based on a customs ruling or advance ruling (for RULING_DECLARATION "
        "requests).",
    },
)
described_enum(
    ReceiptOutcome,
    name="ReceiptOutcome",
    description="海关处理结果: what customs records about a request (recordCustomsReceipt).",
    values={
        ReceiptOutcome.RECEIPT_FAILED: "海关接收失败: a PENDING request could not be received "
        "(→ RECEIPT_FAILED).",
        ReceiptOutcome.ACCEPTED: "已受理: a PENDING request is accepted for handling (→ ACCEPTED).",
        ReceiptOutcome.RETURNED: "退回: a PENDING or ACCEPTED request is sent back; remark "
        "(退回原因) required (→ RETURNED).",
        ReceiptOutcome.CONCLUDED: "已办结: an ACCEPTED request is concluded; remark (办结意见) "
        "required (→ CONCLUDED).",
    },
)
described_enum(
    ErrorCode,
    name="ErrorCode",
    description="错误代码: why a mutation refused (UserError.code); the same in every language, "
    "so a front end branches on it and shows UserError.message.",
    values={
        ErrorCode.REQUIRED: "必填: a required field is missing, empty or only spaces.",
        ErrorCode.INVALID_FORMAT: "格式不正确: a value is not in its format (a fixed-format "
        "number too long or malformed, a character that is not allowed, a field that does not "
        "belong to the type).",
        ErrorCode.TOO_LONG: "超长: free text over its limit of characters (counted after NFC "
        "normalisation).",
        ErrorCode.UNKNOWN_AGREEMENT: "优惠贸易协定代码不存在: not a known trade agreement code.",
        ErrorCode.AGREEMENT_MISMATCH: "协定不一致: the agreement differs from the certificate's "
        "in the registry.",
        ErrorCode.UNKNOWN_COUNTRY: "国家/地区代码不存在: not a known ISO 3166-1 alpha-3 code.",
        ErrorCode.COUNTRY_NOT_IN_AGREEMENT: "国家/地区不在协定中: the importing country is not a "
        "partner party of the agreement.",
        ErrorCode.UNKNOWN_PORT: "口岸不存在: not a port of the importing country.",
        ErrorCode.NOT_FOUND: "记录不存在: no such object, or not one the viewer may see (alike).",
        ErrorCode.INVALID_STATUS: "状态不允许: the request's status does not allow this action "
        "(see allowedActions).",
        ErrorCode.VERSION_CONFLICT: "版本冲突: expectedVersion is stale; someone changed the "
        "request meanwhile.",
        ErrorCode.ATTACHMENT_REQUIRED: "缺少附件: a slot required to submit (ORIGIN_PROOF, "
        "IMPORT_DECLARATION) is empty.",
        ErrorCode.SLOT_OCCUPIED: "附件已存在: the slot already holds a file; delete it first.",
        ErrorCode.FILE_TOO_LARGE: "附件过大: the file is over the file limit (4 MiB = 4,194,304 "
        "bytes by default).",
        ErrorCode.PDF_TOO_LARGE: "PDF过大: the PDF is over the PDF limit (300 KiB = 307,200 "
        "bytes by default); compress it.",
        ErrorCode.FILE_TYPE_NOT_ALLOWED: "文件类型不允许: the bytes are not a complete PDF, JPEG "
        "or PNG file.",
        ErrorCode.EMPTY_FILE: "空文件: the file has no bytes.",
        ErrorCode.CERTIFICATE_ENTERPRISE_MISMATCH: "企业填写证书有误: the certificate is not in "
        "the registry as one of the viewer's enterprise's.",
        ErrorCode.CERTIFICATE_TYPE_MISMATCH: "证书类型不一致: the certificate's kind does not "
        "match the request's type.",
        ErrorCode.CERTIFICATE_NOT_LINKED: "出口报关单号未与证书号关联: the export declaration is "
        "not linked to the certificate in the certificate system.",
        ErrorCode.DUPLICATE_ACTIVE_REQUEST: "重复申请: another PENDING or ACCEPTED request cites "
        "the same certificate and export declaration.",
        ErrorCode.FORBIDDEN: "无权操作: the viewer's role may not do this (an enterprise "
        "mutation for customs, or the reverse).",
        ErrorCode.INVALID_CREDENTIALS: "用户名或密码错误: wrong username or password (the same "
        "for an unknown user).",
        ErrorCode.TOO_MANY_ATTEMPTS: "登录失败次数过多: too many failed logins for this "
        "username or client; try again after the lockout (15 minutes by default).",
    },
)
described_enum(
    OrderField,
    name="CoordinationOrderField",
    description="排序字段: what the list of requests is sorted by.",
    values={
        OrderField.SUBMITTED_AT: "提交日期: the latest submit; never-submitted drafts come after "
        "the submitted requests, by creation time, in either direction.",
        OrderField.CREATED_AT: "创建时间: the first save.",
        OrderField.COORDINATION_NO: "协调单号: the coordination number.",
    },
)
described_enum(
    Direction,
    name="OrderDirection",
    description="排序方向: ascending or descending.",
    values={
        Direction.ASC: "升序: ascending (oldest or smallest first).",
        Direction.DESC: "降序: descending (newest or largest first).",
    },
)
