"""What the client reads when a request is refused outside a mutation's payload, in Chinese (the
default) and English (``Accept-Language: en``): top-level GraphQL errors (``UNAUTHENTICATED``,
``BAD_USER_INPUT``, ``QUERY_LIMIT_EXCEEDED``, masked errors) and the HTTP refusals of ``api``
(400, 404, 405, 408, 413, 415, download links). Codes never change with the language.

A refusal is decided where the request is checked, often before anyone knows who asks in which
language, and may be cached (a document's limits are checked once per text): so it carries its
``Text`` and parameters, and the message is written in the client's language only when the
response is made (``Refusal.message_in``). graphql-core's own parse and validation messages stay
as graphql-core writes them (``GRAPHQL_PARSE_FAILED``, ``GRAPHQL_VALIDATION_FAILED``).
"""

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, Node

from schema.messages import Language, Text, pick

# --- top-level GraphQL errors -------------------------------------------------------------------

AUTHENTICATION_REQUIRED: Text = ("请先登录", "Authentication required.")
UNEXPECTED_ERROR: Text = ("服务器内部错误，请将请求编号告知管理员", "Unexpected error.")

EXACTLY_ONE_OF_ID_AND_NO: Text = (
    "id和coordinationNo须且只能提供一个",
    "Give exactly one of id and coordinationNo.",
)
FIRST_OR_LAST: Text = ("first和last只能提供一个", "Give first or last, not both.")
PAGE_SIZE: Text = ("{argument}应在1到{max}之间", "{argument} must be between 1 and {max}.")
FOREIGN_CURSOR: Text = (
    "{argument}不是本查询的游标：它来自其他查询条件或排序，或已被修改",
    "{argument} is not a cursor of this query: it comes from another filter or order, or was "
    "altered.",
)
UNSTORABLE_STRING: Text = (
    "字符串不能含有NUL字符或不成对的代理码元",
    "Strings may not contain NUL characters or unpaired surrogates.",
)

QUERY_REFUSED: Text = ("查询被拒绝：{reason}", "Query refused: {reason}")
OVER_LIMIT: Text = ("{what}为{found}，超过上限{max}", "{what} is {found}, over the limit of {max}.")
MEASURES: dict[str, Text] = {
    "depth": ("查询深度", "the depth"),
    "introspectionDepth": ("内省查询深度", "the introspection depth"),
    "aliases": ("别名数", "the number of aliases"),
    "directives": ("指令数", "the number of directives"),
    "repeatedFields": (
        "同一选择集中同一字段的最多选择次数",
        "the most times one field is selected in one selection set",
    ),
    "cost": ("查询成本", "the cost"),
}
TOO_MANY_TOKENS: Text = ("查询的词法单元超过{max}个", "the query has more than {max} tokens.")
CIRCULAR_INTROSPECTION: Text = (
    "内省查询的列表（fields、interfaces、possibleTypes、inputFields）嵌套超过{max}层，"
    "属于循环内省查询",
    "introspection nests its lists (fields, interfaces, possibleTypes, inputFields) more than "
    "{max} deep: a circular introspection query.",
)


def write(text: Text, language: Language, params: Mapping[str, Any]) -> str:
    """``text`` in ``language``; a parameter that is itself a ``Text`` is written in it too."""
    values = {
        name: write(value, language, {}) if is_text(value) else value
        for name, value in params.items()
    }
    return pick(text, language).format_map(values)


def is_text(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


class Refusal(GraphQLError):
    """A top-level GraphQL error whose message is written in each client's language when the
    response is made; ``message`` itself is the Chinese one (the default language)."""

    def __init__(
        self,
        text: Text,
        params: Mapping[str, Any] | None = None,
        *,
        extensions: dict[str, Any],
        nodes: Node | list[Node] | None = None,
    ) -> None:
        self.text = text
        self.params = dict(params or {})
        super().__init__(write(text, Language.ZH, self.params), nodes, extensions=extensions)

    def message_in(self, language: Language) -> str:
        return write(self.text, language, self.params)


def message_in(error: GraphQLError, language: Language) -> str:
    """What ``error`` says in ``language``: a ``Refusal`` (raised as it is, or from a resolver,
    where graphql-core wraps it) in that language; any other error as it was written."""
    for candidate in (error, error.original_error):
        if isinstance(candidate, Refusal):
            return candidate.message_in(language)
    return error.message


# --- HTTP refusals (api) --------------------------------------------------------------------------

POST_BODY_TYPE: Text = (
    "POST请求体必须是application/json（UTF-8）",
    "POST bodies must be application/json (UTF-8).",
)
MUTATIONS_OVER_POST: Text = ("变更操作只接受POST请求", "Mutations are only accepted over POST.")
OPERATIONS_OVER_POST: Text = ("操作只接受POST请求", "Operations are only accepted over POST.")
PREFLIGHT_REQUIRED: Text = (
    "multipart请求须带非空的GraphQL-Require-Preflight（或Apollo-Require-Preflight）请求头，"
    "以防跨站请求",
    "Multipart requests need a non-empty GraphQL-Require-Preflight (or Apollo-Require-Preflight) "
    "header, as protection against cross-site requests.",
)
JSON_UNPARSABLE: Text = ("请求体不是有效的JSON", "Unable to parse request body as JSON")
JSON_NOT_OBJECT: Text = ("请求须为JSON对象", "Expected a JSON object.")
BODY_TOO_LARGE: Text = (
    "请求体超过{limit}字节",
    "The request body is larger than {limit} bytes.",
)
BODY_TOO_SLOW: Text = (
    "请求体未在{timeout}秒内送达",
    "The request body was not received within {timeout} s.",
)

MULTIPART_UNPARSABLE: Text = ("无法解析multipart请求体", "Unable to parse the multipart body")
MULTIPART_LIMIT: Text = ("无法解析multipart请求体：字段、文件或部分过多或过大", "{detail}")
MULTIPART_FIELD_NOT_TEXT: Text = (
    "multipart的`{name}`字段须为文本，不能是文件",
    "The multipart `{name}` field must be text, not a file.",
)
MAP_NOT_AN_OBJECT: Text = (
    "multipart的`map`须为JSON对象：从文件字段名到路径列表",
    "The multipart `map` must be a JSON object of file field names to lists of paths.",
)
MAP_NOT_PATHS: Text = (
    "multipart的`map`须为每个文件给出非空的路径（字符串）列表",
    "The multipart `map` must give each file a non-empty list of paths (strings).",
)
MAP_UNKNOWN_FILE: Text = (
    "multipart的`map`列出了{name}，但请求中没有这个文件",
    "The multipart `map` names {name}, which is not a file in the request.",
)
MAP_REPEATED_PATH: Text = (
    "multipart的`map`路径{path}出现了不止一次",
    "The multipart `map` path {path} is given more than once.",
)
MAP_OUTSIDE_VARIABLES: Text = (
    "multipart的`map`路径{path}没有指向`variables`",
    "The multipart `map` path {path} does not lead into `variables`.",
)
MAP_NOT_TO_NULL: Text = (
    "multipart的`map`路径{path}没有指向`operations`中的`null`",
    "The multipart `map` path {path} does not lead to a null in `operations`.",
)

DOWNLOAD_LINK_INVALID: Text = (
    "下载链接无效或已过期，请重新获取",
    "This download link is invalid or has expired.",
)
DOWNLOAD_NOT_FOUND: Text = ("附件不存在", "Not found.")
DOWNLOAD_UNAVAILABLE: Text = ("文件暂时无法提供", "The file is not available.")

NOT_FOUND: Text = ("未找到", "Not Found")
METHOD_NOT_ALLOWED: Text = ("不支持此请求方法", "Method Not Allowed")
BAD_REQUEST: Text = ("请求无效", "Bad request.")
GRAPHIQL_MISSING: Text = (
    "GraphiQL的文件尚未安装：请运行./scripts/setup（它在api/graphiql中运行npm ci），再刷新本页",
    "GraphiQL's files are not installed. Run ./scripts/setup (it runs npm ci in api/graphiql), "
    "then reload this page.",
)

# Strawberry's own refusals, by the reason it gives (the English is Strawberry's).
STRAWBERRY_REASONS: dict[str, Text] = {
    reason: (zh, reason)
    for reason, zh in (
        ("No GraphQL query found in the request", "请求中没有GraphQL查询"),
        ("Unable to parse request body as JSON", "请求体不是有效的JSON"),
        ("Unable to parse the multipart body", "无法解析multipart请求体"),
        ("File(s) missing in form data", "表单数据中缺少文件"),
        ("GraphQL only supports GET and POST requests.", "GraphQL只支持GET和POST请求"),
        ("Not Found", "未找到"),
        ("Unsupported content type", "不支持的内容类型"),
        ("Batching is not enabled", "未启用批量请求"),
        ("Too many operations", "批量请求中的操作过多"),
        ("Can't get GraphQL operation type", "无法确定GraphQL操作类型"),
        (
            "The GraphQL operation's `query` must be a string or null, if provided.",
            "GraphQL操作的`query`须为字符串或`null`",
        ),
        (
            "The GraphQL operation's `variables` must be an object or null, if provided.",
            "GraphQL操作的`variables`须为对象或`null`",
        ),
        (
            "The GraphQL operation's `extensions` must be an object or null, if provided.",
            "GraphQL操作的`extensions`须为对象或`null`",
        ),
    )
}
UNKNOWN_OPERATION: Text = ("未知的操作名称“{name}”", 'Unknown operation named "{name}".')
