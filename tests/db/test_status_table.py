"""The status table of SPEC §3, written out once more by hand from the SPEC so that a change to
``db.status`` that departs from the SPEC fails here."""

import pytest

from db.errors import DomainError, ErrorCode
from db.status import Action, Role, Status, allowed_actions, apply

E, C = Role.ENTERPRISE, Role.CUSTOMS
SPEC_ENTERPRISE = {
    Status.DRAFT: {Action.EDIT, Action.UPLOAD, Action.SUBMIT, Action.DELETE},
    Status.PENDING: {Action.WITHDRAW},
    Status.WITHDRAWN: {Action.EDIT, Action.UPLOAD, Action.SUBMIT, Action.DELETE},
    Status.RECEIPT_FAILED: {Action.EDIT, Action.UPLOAD, Action.SUBMIT},
    Status.RETURNED: {Action.EDIT, Action.UPLOAD, Action.SUBMIT, Action.DELETE},
    Status.ACCEPTED: set(),
    Status.CONCLUDED: set(),
}
SPEC_CUSTOMS = {
    Status.PENDING: {Action.MARK_RECEIPT_FAILED, Action.ACCEPT, Action.RETURN},
    Status.ACCEPTED: {Action.RETURN, Action.CONCLUDE},
}
SPEC_TARGETS = {
    Action.SUBMIT: Status.PENDING,
    Action.WITHDRAW: Status.WITHDRAWN,
    Action.MARK_RECEIPT_FAILED: Status.RECEIPT_FAILED,
    Action.ACCEPT: Status.ACCEPTED,
    Action.RETURN: Status.RETURNED,
    Action.CONCLUDE: Status.CONCLUDED,
}


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_are_the_spec_table(status: Status) -> None:
    assert set(allowed_actions(status, E)) == SPEC_ENTERPRISE[status]
    assert set(allowed_actions(status, C)) == SPEC_CUSTOMS.get(status, set())


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(Action))
def test_apply_follows_the_table(status: Status, action: Action) -> None:
    allowed = action in SPEC_ENTERPRISE[status] | SPEC_CUSTOMS.get(status, set())
    if allowed:
        assert apply(action, status) is SPEC_TARGETS.get(action, status)
    else:
        with pytest.raises(DomainError) as refused:
            apply(action, status)
        assert [p.code for p in refused.value.problems] == [ErrorCode.INVALID_STATUS]


def test_actions_are_listed_in_a_stable_order() -> None:
    assert allowed_actions(Status.DRAFT, E) == [
        Action.EDIT,
        Action.UPLOAD,
        Action.SUBMIT,
        Action.DELETE,
    ]
