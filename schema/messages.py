"""What the client reads: error and outcome messages, status labels and field labels, in Chinese
(the default) and English (``Accept-Language: en``). Codes never change with the language.
"""

import enum
from collections.abc import Mapping

from db.errors import ErrorCode, Problem
from db.models import CertificateKind, CoordinationType
from db.status import Status


class Language(enum.Enum):
    ZH = "zh"
    EN = "en"

    @property
    def tag(self) -> str:
        """The ``Content-Language`` of a response written in this language."""
        return "zh-CN" if self is Language.ZH else "en"

    @classmethod
    def from_accept_language(cls, header: str | None) -> "Language":
        """The preferred of the languages we speak, by q-value; Chinese when nothing matches."""
        best: tuple[float, Language] = (0.0, cls.ZH)
        for position, part in enumerate((header or "").split(",")):
            tag, _, parameters = part.strip().partition(";")
            quality = 1.0
            if parameters.strip().startswith("q="):
                try:
                    quality = float(parameters.strip()[2:])
                except ValueError:
                    continue
            primary = tag.strip().lower().split("-")[0]
            language = {"zh": cls.ZH, "en": cls.EN}.get(primary)
            # An earlier entry wins a tie, as the header lists preferences in order.
            score = quality - position * 1e-6
            if language is not None and score > best[0]:
                best = (score, language)
        return best[1]


Text = tuple[str, str]  # (Chinese, English)

STATUS_LABELS: dict[Status, Text] = {
    Status.DRAFT: ("暂存", "Draft"),
    Status.PENDING: ("待办", "Pending"),
    Status.WITHDRAWN: ("已撤回", "Withdrawn"),
    Status.RECEIPT_FAILED: ("海关接收失败", "Customs receipt failed"),
    Status.RETURNED: ("退回", "Returned"),
    Status.ACCEPTED: ("已受理", "Accepted"),
    Status.CONCLUDED: ("已办结", "Concluded"),
}

TYPE_LABELS: dict[CoordinationType, Text] = {
    CoordinationType.CUSTOMS_CERTIFICATE: (
        "海关原产地证书享惠受阻协调申请",
        "Customs certificate of origin coordination request",
    ),
    CoordinationType.APPROVED_EXPORTER_DECLARATION: (
        "经核准出口商原产地声明享惠受阻协调申请",
        "Approved exporter declaration coordination request",
    ),
    CoordinationType.RULING_DECLARATION: (
        "基于海关行政裁定或预裁定的原产地声明享惠受阻协调申请",
        "Ruling-based origin declaration coordination request",
    ),
    CoordinationType.CCPIT_CERTIFICATE: (
        "贸促会原产地证书享惠受阻协调申请",
        "CCPIT certificate of origin coordination request",
    ),
}

CERTIFICATE_KIND_LABELS: dict[CertificateKind, Text] = {
    CertificateKind.CUSTOMS_CO: ("海关原产地证书", "Customs certificate of origin"),
    CertificateKind.CCPIT_CO: ("贸促会原产地证书", "CCPIT certificate of origin"),
    CertificateKind.APPROVED_EXPORTER_DECLARATION: (
        "经核准出口商原产地声明",
        "Approved exporter's origin declaration",
    ),
    CertificateKind.RULING_DECLARATION: (
        "基于海关行政裁定或预裁定的原产地声明",
        "Origin declaration based on a customs ruling or advance ruling",
    ),
}

FIELD_LABELS: dict[str, Text] = {
    "type": ("协调单类型", "Request type"),
    "certificateNo": ("原产地证书号/原产地声明编号", "Certificate or declaration number"),
    "agreementCode": ("优惠贸易协定代码", "Trade agreement"),
    "exportDeclarationNo": ("出口报关单号", "Export declaration number"),
    "importDeclarationNo": ("进口报关单号", "Import declaration number"),
    "importCountryCode": ("进口国家/地区", "Importing country or region"),
    "importPortCode": ("进口国家/地区口岸", "Port of importation"),
    "approvedExporterNo": ("经核准出口商编号", "Approved exporter number"),
    "rulingNo": ("行政裁定/预裁定编号", "Ruling or advance ruling number"),
    "contactName": ("联系人", "Contact name"),
    "contactPhone": ("联系电话", "Contact phone"),
    "reason": ("申请事由", "Reason"),
    "remark": ("意见", "Remark"),
    "file": ("附件", "File"),
    "slot": ("附件类型", "Attachment slot"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
}

ERROR_MESSAGES: dict[ErrorCode, Text] = {
    ErrorCode.REQUIRED: ("{label}不能为空", "{label} is required"),
    ErrorCode.INVALID_FORMAT: ("{label}格式不正确", "{label} is not in a valid format"),
    ErrorCode.TOO_LONG: (
        "{label}不能超过{max}个字符",
        "{label} must be at most {max} characters",
    ),
    ErrorCode.UNKNOWN_AGREEMENT: ("优惠贸易协定代码不存在", "Unknown trade agreement code"),
    ErrorCode.AGREEMENT_MISMATCH: (
        "优惠贸易协定与证书申请系统中的证书不一致",
        "The trade agreement differs from the certificate's agreement in the registry",
    ),
    ErrorCode.UNKNOWN_COUNTRY: ("进口国家/地区代码不存在", "Unknown country code"),
    ErrorCode.COUNTRY_NOT_IN_AGREEMENT: (
        "进口国家/地区不是该优惠贸易协定的成员",
        "The importing country is not a party to the trade agreement",
    ),
    ErrorCode.UNKNOWN_PORT: (
        "该进口国家/地区没有此口岸",
        "The port is not a port of the importing country",
    ),
    ErrorCode.NOT_FOUND: ("记录不存在", "Not found"),
    ErrorCode.INVALID_STATUS: (
        "当前状态不允许此操作",
        "This action is not allowed in the request's current status",
    ),
    ErrorCode.VERSION_CONFLICT: (
        "数据已被修改，请刷新后重试",
        "The request was changed by someone else; reload it and try again",
    ),
    ErrorCode.ATTACHMENT_REQUIRED: (
        "请上传{label}附件",
        "Please upload the {label} attachment",
    ),
    ErrorCode.SLOT_OCCUPIED: (
        "该附件已上传，如需更换请先删除",
        "This slot already holds a file; delete it first to replace it",
    ),
    ErrorCode.FILE_TOO_LARGE: ("附件大小不能超过{limit}", "Files must not exceed {limit}"),
    ErrorCode.PDF_TOO_LARGE: (
        "PDF附件大小不能超过{limit}，请压缩后重新上传",
        "PDF files must not exceed {limit}; please compress the file and upload it again",
    ),
    ErrorCode.FILE_TYPE_NOT_ALLOWED: (
        "附件只能是PDF、JPG或PNG格式",
        "Only PDF, JPEG and PNG files are allowed",
    ),
    ErrorCode.EMPTY_FILE: ("附件不能为空文件", "The file is empty"),
    ErrorCode.CERTIFICATE_ENTERPRISE_MISMATCH: (
        "企业填写证书有误",
        "The certificate is not one of your enterprise's certificates",
    ),
    ErrorCode.CERTIFICATE_TYPE_MISMATCH: (
        "证书类型与协调单类型不一致",
        "The certificate's kind does not match the request type",
    ),
    ErrorCode.CERTIFICATE_NOT_LINKED: (
        "提交失败：出口报关单号未与证书号关联，请进入证书申请系统进行关联操作",
        "Submission failed: the export declaration is not linked to the certificate; link it in "
        "the certificate application system",
    ),
    ErrorCode.DUPLICATE_ACTIVE_REQUEST: (
        "该证书和出口报关单已有正在办理的协调申请",
        "An active request for this certificate and export declaration already exists",
    ),
    ErrorCode.FORBIDDEN: ("无权进行此操作", "You are not allowed to do this"),
    ErrorCode.INVALID_CREDENTIALS: ("用户名或密码错误", "Wrong username or password"),
    ErrorCode.TOO_MANY_ATTEMPTS: (
        "登录失败次数过多，请{minutes}分钟后再试",
        "Too many failed logins; try again in {minutes} minutes",
    ),
}

SERVICE_UNAVAILABLE_MESSAGE: Text = (
    "服务暂时不可用，请稍后再试",
    "The service is temporarily unavailable; please try again shortly.",
)

REFUSED_CHARACTER: Text = (
    "{label}含有不允许的字符（{character}），请删除后重试",
    "{label} contains a character that is not allowed ({character}); remove it and try again",
)
"""``INVALID_FORMAT`` for a control, direction or other invisible character (its params name it)."""

DAMAGED_FILE: Text = (
    "附件不是完整有效的{damaged}文件，可能已损坏、不完整或经过加密，请重新生成后上传",
    "The file is not a complete, valid {damaged} file (it may be damaged, cut short or "
    "password-protected); create it again and upload it",
)
"""``FILE_TYPE_NOT_ALLOWED`` for a file whose first bytes announce a kind its structure is not."""

FORMAT_EXPECTED: Text = ("{label}应为{hint}", "{label} must be {hint}")
"""``INVALID_FORMAT`` naming the format the value must have (its params' ``format``)."""

FORMAT_HINTS: dict[str, Text] = {
    # The formats of db.validation and db.form: each completes "…应为" / "… must be".
    "CERTIFICATE_NO": (
        "1至40位大写字母、数字、“-”或“/”",
        "1 to 40 characters of A–Z, 0–9, '-' and '/' (letters are upper-cased)",
    ),
    "EXPORT_DECLARATION_NO": (
        "18位：4位关区代码、4位年份、出口标志0或E、9位顺序号（如350120260000123456）",
        "18 characters: a 4-digit customs code, a 4-digit year, the export flag 0 or E and a "
        "9-digit sequence (e.g. 350120260000123456)",
    ),
    "IMPORT_DECLARATION_NO": (
        "1至64个可打印字符（不含换行和控制字符）",
        "1 to 64 printable characters (no line breaks or control characters)",
    ),
    "PHONE": (
        "手机号（如13812345678）、带区号的固定电话（如0592-5123456，分机写作-8021或转8021）、"
        "95xxx/400/800服务号码，或以+开头的国际号码（共8至15位数字）",
        "a mainland mobile (e.g. 13812345678), a landline with its area code (e.g. 0592-5123456, "
        "an extension as -8021 or 转8021), a 95xxx/400/800 service number, or an international "
        "number starting with + (8 to 15 digits in all)",
    ),
    "USCC": (
        "18位统一社会信用代码（GB 32100-2015，末位为校验码）",
        "an 18-character unified social credit code (GB 32100-2015, ending in its check character)",
    ),
    "NOT_FOR_TYPE": (
        "空（该协调单类型没有此项）",
        "empty (this request type has no such field)",
    ),
    "SAME_TYPE": (
        "已保存的类型（类型保存后不能更改，可不填）",
        "the stored type (a request's type cannot change; you may leave it out)",
    ),
    # What the form says of the fields without a fixed format (coordinationForm's hints).
    "AGREEMENT": (
        "优惠贸易协定代码（见tradeAgreements）；证书申请系统中有该证书时可不填，自动带出",
        "a trade agreement code (see tradeAgreements); may be left out when the certificate "
        "registry knows the certificate, which then fills it",
    ),
    "COUNTRY": (
        "进口国家/地区的三位字母代码（ISO 3166-1，如KOR），须为所选优惠贸易协定的成员",
        "the importing country's three-letter code (ISO 3166-1, e.g. KOR), a party to the chosen "
        "trade agreement",
    ),
    "PORT": (
        "所选进口国家/地区的口岸代码（UN/LOCODE，如KRPUS）",
        "a port code of the chosen importing country (UN/LOCODE, e.g. KRPUS)",
    ),
    "CONTACT_NAME": ("1至50个字符", "1 to 50 characters"),
    "REASON": ("1至1000个字符，可换行", "1 to 1000 characters; line breaks allowed"),
}

BAD_CURSOR: Text = (
    "after不是此列表的游标：它来自其他查询条件或已被改动",
    "after is not a cursor of this list: it comes from another search or was altered",
)
"""``BAD_USER_INPUT`` of a cursor the certificate list did not hand out (with this search)."""

SLOT_LABELS: dict[str, Text] = {
    "ORIGIN_PROOF": ("原产地证明", "proof of origin"),
    "IMPORT_DECLARATION": ("进口报关单", "import declaration"),
    "OTHER_1": ("其他1", "other 1"),
    "OTHER_2": ("其他2", "other 2"),
}


class Outcome(enum.Enum):
    """What a mutation did, with its success and failure messages (the seed's wording)."""

    LOGIN = ("登录成功", "Logged in", "登录失败", "Login failed")
    SAVE = ("暂存成功", "Saved", "暂存失败", "Saving failed")
    SUBMIT = ("申报成功", "Submitted", "申报失败", "Submission failed")
    WITHDRAW = ("撤回成功", "Withdrawn", "撤回失败", "Withdrawal failed")
    DELETE = ("删除成功", "Deleted", "删除失败", "Deletion failed")
    UPLOAD = ("上传成功", "Uploaded", "上传失败", "Upload failed")
    RECORD_RECEIPT = ("操作成功", "Recorded", "操作失败", "Recording failed")
    LOGOUT = ("退出成功", "Logged out", "退出失败", "Logout failed")
    LOGOUT_EVERYWHERE = (
        "已退出全部登录",
        "Logged out everywhere",
        "退出全部登录失败",
        "Logging out everywhere failed",
    )

    def message(self, language: "Language", *, success: bool) -> str:
        zh_ok, en_ok, zh_failed, en_failed = self.value
        if success:
            return zh_ok if language is Language.ZH else en_ok
        return zh_failed if language is Language.ZH else en_failed


class Closing(enum.Enum):
    """Why the server ends a subscription connection (graphql-transport-ws), or refuses one more
    subscription on it: the WebSocket close code (``None``: an ``error`` message for that
    subscription, the connection stays) and the reason, at most 123 bytes of UTF-8."""

    FORBIDDEN = (4403, "未登录或登录已失效", "Forbidden: no valid token")
    TOO_MANY_CONNECTIONS = (
        4429,
        "该用户的订阅连接过多（最多{max}个）",
        "Too many subscription connections for this user (at most {max})",
    )
    TOO_MANY_SUBSCRIPTIONS = (
        None,
        "每个连接最多{max}个订阅",
        "At most {max} subscriptions per connection",
    )
    SLOW_CONSUMER = (1013, "接收事件过慢，连接已关闭", "Too slow to receive events")
    UNAVAILABLE = (1013, "服务暂时不可用，请稍后再试", "Service unavailable, try again later")
    EVENTS_MISSED = (1012, "可能遗漏了事件：请重新连接并刷新", "Events may be missed: reconnect")

    @property
    def code(self) -> int | None:
        code: int | None = self.value[0]
        return code

    def message(self, language: "Language", **params: object) -> str:
        return pick((self.value[1], self.value[2]), language).format_map(_Defaults(params))


OVER_WEBSOCKET: Text = (
    "订阅需通过 WebSocket（graphql-transport-ws 协议）连接 /graphql",
    "Subscriptions run over a WebSocket to /graphql (graphql-transport-ws)",
)
"""A subscription sent over HTTP."""


def pick(text: Text, language: Language) -> str:
    return text[0] if language is Language.ZH else text[1]


def label(text: Text, language: Language) -> str:
    """A name shown on its own (a slot's label): capitalised in English."""
    chosen = pick(text, language)
    return chosen[:1].upper() + chosen[1:]


def size_text(size: int, language: Language) -> str:
    """A byte count the way the seed writes limits: 4M, 300K (English: 4 MB, 300 KB)."""
    for unit, zh, en in ((1024 * 1024, "M", " MB"), (1024, "K", " KB")):
        if size >= unit:
            amount = f"{size / unit:.1f}".removesuffix(".0")
            return amount + pick((zh, en), language)
    return f"{size}" + pick(("字节", " bytes"), language)


def error_message(problem: Problem, field_name: str | None, language: Language) -> str:
    params: dict[str, object] = {"label": "", **problem.params}
    max_bytes = problem.params.get("max_bytes")
    if isinstance(max_bytes, int):
        params["limit"] = size_text(max_bytes, language)
    if field_name in FIELD_LABELS:
        params["label"] = pick(FIELD_LABELS[field_name], language)
    slot = problem.params.get("slot")
    if isinstance(slot, str) and slot in SLOT_LABELS:
        params["label"] = pick(SLOT_LABELS[slot], language)
    template = ERROR_MESSAGES[problem.code]
    if problem.code is ErrorCode.INVALID_FORMAT and "character" in problem.params:
        template = REFUSED_CHARACTER
    elif problem.code is ErrorCode.INVALID_FORMAT and problem.params.get("format") in FORMAT_HINTS:
        template = FORMAT_EXPECTED
        params["hint"] = pick(FORMAT_HINTS[str(problem.params["format"])], language)
    if problem.code is ErrorCode.FILE_TYPE_NOT_ALLOWED and "damaged" in problem.params:
        template = DAMAGED_FILE
    return pick(template, language).format_map(_Defaults(params))


class _Defaults(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""

    def __init__(self, values: Mapping[str, object]) -> None:
        super().__init__(values)


PERSISTED_QUERY_MESSAGES: dict[str, Text] = {
    # PERSISTED_QUERY_NOT_FOUND's message is the protocol's fixed PersistedQueryNotFound.
    "PERSISTED_QUERY_HASH_MISMATCH": (
        "persistedQuery.sha256Hash与所附查询文本的SHA-256不一致",
        "persistedQuery.sha256Hash is not the SHA-256 of the query sent with it",
    ),
    "PERSISTED_QUERY_NOT_ALLOWED": (
        "本服务只执行已登记的操作（可信文档），此操作不在其中",
        "This service runs only its registered operations (trusted documents); "
        "this operation is not one of them",
    ),
    "PERSISTED_QUERY_NOT_SUPPORTED": (
        "不支持此持久化查询版本，仅支持版本1",
        "This persisted query version is not supported; only version 1 is",
    ),
}
"""Refusals of persisted operations (``api.persisted``), by their ``extensions.code``."""
