"""``xhsz demo --requests N``: generated requests are valid, varied and leave numbering intact."""

import itertools
import re
from collections import Counter

from sqlalchemy import func, select

from api.demo import ENTERPRISES
from config.settings import Settings
from db.models import Attachment, Coordination, CoordinationCounter, StatusChange, User
from db.status import Status
from tests.support import Api, Factory, valid_input, xhsz

COUNT = 400


async def test_demo_requests_are_valid_varied_and_numbered_from_the_counters(
    api: Api, factory: Factory, settings: Settings
) -> None:
    result = xhsz(settings, "demo", "--requests", str(COUNT))
    assert result.returncode == 0, result.stderr
    assert f"{COUNT:,} requests generated" in result.stdout

    async with factory.database.reader() as session:
        rows = (await session.scalars(select(Coordination))).all()
        changes = (await session.scalars(select(StatusChange))).all()
        files = await session.scalar(select(func.count()).select_from(Attachment))
        counters = dict(
            (
                await session.execute(
                    select(CoordinationCounter.day, CoordinationCounter.last_value)
                )
            ).all()
        )
        demo_enterprise = await session.scalar(
            select(User.enterprise_id).where(User.username == ENTERPRISES[0].username)
        )
    assert len(rows) == COUNT + 6, "the six hand-made demo requests and the generated ones"
    assert files == 2 * COUNT
    assert len({row.coordination_no for row in rows}) == len(rows)
    per_day = Counter(row.coordination_no[2:10] for row in rows)
    for row in rows:
        assert re.fullmatch(r"XT\d{16}", row.coordination_no)
        assert (row.submitted_at is None) == (row.status is Status.DRAFT)
        assert row.created_at <= row.updated_at
    assert all(counters[day] >= amount for day, amount in per_day.items())
    assert {row.status for row in rows} >= {Status.DRAFT, Status.CONCLUDED, Status.RETURNED}
    spread = Counter(row.enterprise_id for row in rows)
    assert len(spread) > 1
    assert 0.03 < spread[demo_enterprise] / len(rows) < 0.25, "the demo enterprise holds about 10%"

    history: dict[int, list[StatusChange]] = {}
    for change in sorted(changes, key=lambda c: c.id):
        history.setdefault(change.coordination_id, []).append(change)
    for row in rows:
        steps = history[row.id]
        assert (steps[0].from_status, steps[0].to_status) == (None, Status.DRAFT)
        assert steps[-1].to_status is row.status
        assert all(a.to_status is b.from_status for a, b in itertools.pairwise(steps))

    # A save made afterwards takes the next number of the day, not a generated one.
    alice = await factory.enterprise_user()
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    assert saved["coordinationNo"] not in {row.coordination_no for row in rows}
