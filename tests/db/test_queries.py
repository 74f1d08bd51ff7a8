"""Tenant scoping as a cacheable template (``queries.visibility``) stays tied to its viewer."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from db.database import Database
from db.identity import Viewer
from db.models import Coordination
from db.queries import visibility
from db.status import Role


async def test_a_cached_scope_run_without_the_viewers_values_fails_instead_of_reusing_any(
    database: Database,
) -> None:
    viewer = Viewer(user_id=1, username="someone", role=Role.ENTERPRISE, enterprise_id=7)
    template, values = visibility(viewer)
    statement = select(Coordination.id).where(template)

    assert values == {"viewer_enterprise_id": 7}
    async with database.reader() as session:
        with pytest.raises(StatementError, match="viewer_enterprise_id"):
            await session.execute(statement)
        await session.rollback()
        assert (await session.execute(statement, values)).all() == []


def test_customs_scope_needs_no_values() -> None:
    template, values = visibility(Viewer(user_id=1, username="officer", role=Role.CUSTOMS))
    assert values == {}
    assert "enterprise_id" not in str(template)
