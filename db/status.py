"""The status table of SPEC §3: every status, every action, and which action each status allows.

This module is the only place that decides whether an action is allowed; mutations, the customs
receipt and ``allowedActions`` all read it. Transitions are data, not code.
"""

import enum

from db.errors import DomainError, ErrorCode


class Role(enum.Enum):
    ENTERPRISE = "ENTERPRISE"
    CUSTOMS = "CUSTOMS"


class Status(enum.Enum):
    DRAFT = "DRAFT"
    """暂存: saved at least once, never submitted."""
    PENDING = "PENDING"
    """待办: submitted, waiting for customs to receive it."""
    WITHDRAWN = "WITHDRAWN"
    """已撤回: the enterprise took a pending request back."""
    RECEIPT_FAILED = "RECEIPT_FAILED"
    """海关接收失败: customs could not receive it; the enterprise may fix it and submit again."""
    RETURNED = "RETURNED"
    """退回: customs sent it back with a reason."""
    ACCEPTED = "ACCEPTED"
    """已受理: customs is handling it."""
    CONCLUDED = "CONCLUDED"
    """已办结: customs concluded it with an opinion."""


class Action(enum.Enum):
    EDIT = "EDIT"
    UPLOAD = "UPLOAD"
    """Upload or delete an attachment."""
    SUBMIT = "SUBMIT"
    WITHDRAW = "WITHDRAW"
    DELETE = "DELETE"
    MARK_RECEIPT_FAILED = "MARK_RECEIPT_FAILED"
    ACCEPT = "ACCEPT"
    RETURN = "RETURN"
    CONCLUDE = "CONCLUDE"


INITIAL_STATUS = Status.DRAFT
"""A request's status after its first successful save."""

EDITABLE_STATES = frozenset(
    {Status.DRAFT, Status.WITHDRAWN, Status.RECEIPT_FAILED, Status.RETURNED}
)
"""The enterprise may change the form and its attachments, and submit."""

DELETE_ALLOWED_STATES = frozenset({Status.DRAFT, Status.WITHDRAWN, Status.RETURNED})
"""Not RECEIPT_FAILED: customs has seen that request, so it stays on record for the enterprise."""

ACTIVE_STATES = frozenset({Status.PENDING, Status.ACCEPTED})
"""At most one request per certificate and export declaration may be in these states."""

ALLOWED_STATES: dict[Action, frozenset[Status]] = {
    Action.EDIT: EDITABLE_STATES,
    Action.UPLOAD: EDITABLE_STATES,
    Action.SUBMIT: EDITABLE_STATES,
    Action.WITHDRAW: frozenset({Status.PENDING}),
    Action.DELETE: DELETE_ALLOWED_STATES,
    Action.MARK_RECEIPT_FAILED: frozenset({Status.PENDING}),
    Action.ACCEPT: frozenset({Status.PENDING}),
    Action.RETURN: frozenset({Status.PENDING, Status.ACCEPTED}),
    Action.CONCLUDE: frozenset({Status.ACCEPTED}),
}

TARGET_STATUS: dict[Action, Status] = {
    Action.SUBMIT: Status.PENDING,
    Action.WITHDRAW: Status.WITHDRAWN,
    Action.MARK_RECEIPT_FAILED: Status.RECEIPT_FAILED,
    Action.ACCEPT: Status.ACCEPTED,
    Action.RETURN: Status.RETURNED,
    Action.CONCLUDE: Status.CONCLUDED,
}
"""Actions that move a request to another status; the others keep it where it is."""

ACTIONS_BY_ROLE: dict[Role, tuple[Action, ...]] = {
    Role.ENTERPRISE: (Action.EDIT, Action.UPLOAD, Action.SUBMIT, Action.WITHDRAW, Action.DELETE),
    Role.CUSTOMS: (Action.MARK_RECEIPT_FAILED, Action.ACCEPT, Action.RETURN, Action.CONCLUDE),
}

REMARK_REQUIRED = frozenset({Action.RETURN, Action.CONCLUDE})
"""Customs must give a reason (退回原因) or an opinion (办结意见)."""


class ReceiptOutcome(enum.Enum):
    """What customs records about a request (recordCustomsReceipt)."""

    RECEIPT_FAILED = "RECEIPT_FAILED"
    ACCEPTED = "ACCEPTED"
    RETURNED = "RETURNED"
    CONCLUDED = "CONCLUDED"


OUTCOME_ACTIONS: dict[ReceiptOutcome, Action] = {
    ReceiptOutcome.RECEIPT_FAILED: Action.MARK_RECEIPT_FAILED,
    ReceiptOutcome.ACCEPTED: Action.ACCEPT,
    ReceiptOutcome.RETURNED: Action.RETURN,
    ReceiptOutcome.CONCLUDED: Action.CONCLUDE,
}


def is_allowed(action: Action, status: Status) -> bool:
    return status in ALLOWED_STATES[action]


def apply(action: Action, status: Status) -> Status:
    """The status after ``action``; ``INVALID_STATUS`` when the table does not allow it."""
    if not is_allowed(action, status):
        raise DomainError.of(ErrorCode.INVALID_STATUS, status=status.value)
    return TARGET_STATUS.get(action, status)


def role_for(action: Action) -> Role:
    """The only role that may take ``action``."""
    return next(role for role, actions in ACTIONS_BY_ROLE.items() if action in actions)


def authorize(action: Action, role: Role) -> None:
    """``FORBIDDEN`` unless ``role`` is the one that takes ``action``."""
    if role is not role_for(action):
        raise DomainError.of(ErrorCode.FORBIDDEN)


def allowed_actions(status: Status, role: Role) -> list[Action]:
    return [action for action in ACTIONS_BY_ROLE[role] if is_allowed(action, status)]
