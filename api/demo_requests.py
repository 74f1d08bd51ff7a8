"""Generated requests for ``xhsz demo --requests N``: realistic volume for trying and benchmarking
the list.

N valid requests over two years, spread over many enterprises with one (the demo enterprise)
holding 10% and the rest a long tail; every status, with history consistent with it, and two
attachment rows each (rows only: no files). Coordination numbers are reserved from the same daily
counters that saves use, so later saves never collide with them. Rows go in batches: PostgreSQL's
COPY, SQLite's executemany, one transaction per batch.
"""

import datetime as dt
import itertools
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from db import reference
from db.clock import china_date
from db.database import Database
from db.models import (
    Attachment,
    AttachmentSlot,
    Coordination,
    CoordinationCounter,
    CoordinationType,
    Enterprise,
    StatusChange,
    User,
)
from db.numbering import PREFIX, SEQUENCE_DIGITS
from db.status import Role, Status
from db.validation import USCC_ALPHABET, uscc_check_character

BATCH = 20_000
SPAN = dt.timedelta(days=730)
BIG_SHARE = 0.10
REQUESTS_PER_ENTERPRISE = 200
MAX_ENTERPRISES = 5_000

TYPES = (
    (CoordinationType.CUSTOMS_CERTIFICATE, 50),
    (CoordinationType.CCPIT_CERTIFICATE, 25),
    (CoordinationType.APPROVED_EXPORTER_DECLARATION, 15),
    (CoordinationType.RULING_DECLARATION, 10),
)
AGREEMENTS = (("22", 30), ("02", 25), ("19", 15), ("18", 8), ("01", 5), ("07", 4), ("11", 4),
              ("10", 3), ("08", 2), ("12", 2), ("17", 2))  # fmt: skip
# What became of a request, by how long ago it was made: recent ones are still being handled.
STATUSES_BY_AGE: tuple[tuple[dt.timedelta, tuple[tuple[Status, int], ...]], ...] = (
    (dt.timedelta(days=7), ((Status.DRAFT, 25), (Status.PENDING, 40), (Status.ACCEPTED, 15),
                            (Status.RETURNED, 8), (Status.RECEIPT_FAILED, 5),
                            (Status.WITHDRAWN, 7))),
    (dt.timedelta(days=60), ((Status.DRAFT, 5), (Status.PENDING, 10), (Status.ACCEPTED, 35),
                             (Status.RETURNED, 10), (Status.RECEIPT_FAILED, 4),
                             (Status.WITHDRAWN, 6), (Status.CONCLUDED, 30))),
    (SPAN, ((Status.DRAFT, 2), (Status.ACCEPTED, 3), (Status.RETURNED, 6),
            (Status.RECEIPT_FAILED, 2), (Status.WITHDRAWN, 4), (Status.CONCLUDED, 83))),
)  # fmt: skip
# The customs decisions after PENDING that lead to each status.
DECISIONS: dict[Status, tuple[Status, ...]] = {
    Status.DRAFT: (),
    Status.PENDING: (),
    Status.WITHDRAWN: (Status.WITHDRAWN,),
    Status.RECEIPT_FAILED: (Status.RECEIPT_FAILED,),
    Status.RETURNED: (Status.RETURNED,),
    Status.ACCEPTED: (Status.ACCEPTED,),
    Status.CONCLUDED: (Status.ACCEPTED, Status.CONCLUDED),
}
REMARKS = {
    Status.RETURNED: "证书签发日期与出运日期不符，请补充说明后重新申报。",
    Status.CONCLUDED: "已与进口方海关完成协调，对方同意给予协定税率。",
}
NAMES = ("林晓", "陈静", "王磊", "张伟", "刘洋", "黄敏", "周杰", "吴芳")
REASONS = (
    "进口国海关以原产地证书签发日期晚于出运日期为由拒绝给予协定税率。",
    "进口国海关认为货物描述与发票不一致，拒绝享受协定税率。",
    "进口国海关对原产地声明的格式提出质疑。",
    "进口国海关要求核实原产地标准的适用。",
)
CITIES = ("厦门", "宁波", "深圳", "青岛", "苏州", "东莞", "天津", "义乌", "泉州", "佛山")
TRADES = ("进出口", "国际贸易", "实业", "供应链", "电子", "纺织", "机械", "化工")


@dataclass(frozen=True)
class Party:
    enterprise_id: int
    user_id: int
    username: str


@dataclass
class Rows:
    coordinations: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    attachments: list[tuple[Any, ...]]


Progress = Callable[[int], None]

COORDINATION_COLUMNS = (
    "id", "coordination_no", "type", "status", "enterprise_id", "certificate_no", "agreement_code",
    "export_declaration_no", "import_declaration_no", "import_country_code", "import_port_code",
    "approved_exporter_no", "ruling_no", "contact_name", "contact_phone", "reason",
    "customs_remark", "version", "created_by_id", "created_at", "updated_at", "submitted_at",
)  # fmt: skip
HISTORY_COLUMNS = (
    "coordination_id", "from_status", "to_status", "at", "actor_username", "actor_role", "remark",
)  # fmt: skip
ATTACHMENT_COLUMNS = (
    "coordination_id", "slot", "file_name", "content_type", "size", "sha256", "storage_key",
    "created_at",
)  # fmt: skip


async def seed_requests(
    database: Database,
    *,
    count: int,
    big_enterprise_id: int,
    big_user: tuple[int, str],
    password_hash: str,
    customs_username: str,
    now: dt.datetime,
    progress: Progress,
) -> None:
    """Add ``count`` generated requests; the big enterprise (with its user) gets 10%."""
    rng = random.Random(secrets.randbits(64))  # noqa: S311 (demo data, not secrets)
    big = Party(big_enterprise_id, *big_user)
    others = await _tail_enterprises(database, count, password_hash, now)
    created = sorted(now - SPAN * rng.random() for _ in range(count))
    numbers = await _reserve_numbers(database, created)
    generator = _Generator(rng, now, big, others, customs_username)
    for start in range(0, count, BATCH):
        chunk = created[start : start + BATCH]
        async with database.write_engine.begin() as connection:
            pks = await _take_ids(connection, len(chunk), sqlite=database.is_sqlite)
            rows = generator.rows(zip(pks, chunk, numbers[start : start + BATCH], strict=True))
            await (_executemany if database.is_sqlite else _copy)(connection, rows)
        progress(len(chunk))
    await _analyze(database)


async def _tail_enterprises(
    database: Database, count: int, password_hash: str, now: dt.datetime
) -> list[Party]:
    """The long tail: deterministic enterprises (and one user each), created once, reused after."""
    wanted = max(1, min(MAX_ENTERPRISES, count // REQUESTS_PER_ENTERPRISE))
    enterprises = [
        {"uscc": _uscc(n), "name": _enterprise_name(n), "created_at": now} for n in range(wanted)
    ]
    dialect = postgresql if not database.is_sqlite else sqlite
    async with database.write_engine.begin() as connection:
        await connection.execute(
            dialect.insert(Enterprise).on_conflict_do_nothing(index_elements=["uscc"]), enterprises
        )
        result = await connection.execute(
            select(Enterprise.uscc, Enterprise.id).where(
                Enterprise.uscc.in_([e["uscc"] for e in enterprises])
            )
        )
        found = dict(result.all())
        users = [
            {
                "username": f"demo-{n:05d}",
                "password_hash": password_hash,
                "role": Role.ENTERPRISE,
                "enterprise_id": found[_uscc(n)],
                "created_at": now,
            }
            for n in range(wanted)
        ]
        await connection.execute(
            dialect.insert(User).on_conflict_do_nothing(index_elements=["username"]), users
        )
        rows = await connection.execute(
            select(User.enterprise_id, User.id, User.username).where(
                User.username.in_([u["username"] for u in users])
            )
        )
        return [Party(e, u, name) for e, u, name in rows.all() if e is not None]


def _uscc(n: int) -> str:
    digits = []
    value = 7_000_000 + n * 7919
    for _ in range(9):
        value, digit = divmod(value, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[digit])
    body = "91350200MA" + "".join(reversed(digits))[-7:]
    return body + uscc_check_character(body)


def _enterprise_name(n: int) -> str:
    return f"{CITIES[n % len(CITIES)]}{TRADES[n // len(CITIES) % len(TRADES)]}演示有限公司{n:05d}"


async def _reserve_numbers(database: Database, created: Sequence[dt.datetime]) -> list[str]:
    """Coordination numbers for requests made at ``created`` (sorted), taken from the counters
    in one committed transaction, as saves take theirs."""
    days = [china_date(moment).strftime("%Y%m%d") for moment in created]
    needed = Counter(days)
    dialect = postgresql if not database.is_sqlite else sqlite
    last: dict[str, int] = {}
    async with database.write_engine.begin() as connection:
        for day, amount in sorted(needed.items()):
            statement = (
                dialect.insert(CoordinationCounter)
                .values(day=day, last_value=amount)
                .on_conflict_do_update(
                    index_elements=[CoordinationCounter.day],
                    set_={"last_value": CoordinationCounter.last_value + amount},
                )
                .returning(CoordinationCounter.last_value)
            )
            last[day] = (await connection.execute(statement)).scalar_one()
    next_value = {day: last[day] - amount + 1 for day, amount in needed.items()}
    numbers = []
    for day in days:
        numbers.append(f"{PREFIX}{day}{next_value[day]:0{SEQUENCE_DIGITS}d}")
        next_value[day] += 1
    return numbers


async def _take_ids(connection: AsyncConnection, amount: int, *, sqlite: bool) -> list[int]:
    """Primary keys for a batch of requests (their history and attachments refer to them)."""
    if sqlite:
        # The write transaction holds SQLite's lock until the batch is in: max() is safe.
        top = int(await connection.scalar(select(func.coalesce(func.max(Coordination.id), 0))) or 0)
        return list(range(top + 1, top + 1 + amount))
    result = await connection.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('coordinations', 'id')) "
            "FROM generate_series(1, :amount)"
        ),
        {"amount": amount},
    )
    return [int(value) for value in result.scalars()]


@cache
def _ports(country_code: str) -> tuple[str, ...]:
    found = reference.search_ports(country_code=country_code, search=None, limit=100)
    return tuple(p.code for p in found if p.is_seaport)[:8] or tuple(p.code for p in found)[:8]


@cache
def _places(agreement_code: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    agreement = reference.agreement(agreement_code)
    assert agreement is not None
    return tuple((c, _ports(c)) for c in agreement.partner_codes if _ports(c))


class _Generator:
    def __init__(
        self,
        rng: random.Random,
        now: dt.datetime,
        big: Party,
        others: list[Party],
        customs_username: str,
    ) -> None:
        self.rng = rng
        self.now = now
        self.big = big
        self.others = others
        # A long tail: the n-th enterprise is ~n^-0.8 as busy as the first.
        self.other_weights = list(itertools.accumulate((n + 1) ** -0.8 for n in range(len(others))))
        self.customs = customs_username
        self.types, self.type_weights = _cumulative(TYPES)
        self.agreements, self.agreement_weights = _cumulative(AGREEMENTS)
        self.statuses = [(age, *_cumulative(choices)) for age, choices in STATUSES_BY_AGE]

    def rows(self, requests: Iterator[tuple[int, dt.datetime, str]]) -> Rows:
        rows = Rows([], [], [])
        for pk, created_at, number in requests:
            self._request(rows, pk, created_at, number)
        return rows

    def _party(self) -> Party:
        if self.rng.random() < BIG_SHARE or not self.others:
            return self.big
        return self.rng.choices(self.others, cum_weights=self.other_weights)[0]

    def _status(self, age: dt.timedelta) -> Status:
        for limit, statuses, weights in self.statuses:
            if age <= limit:
                status: Status = self.rng.choices(statuses, cum_weights=weights)[0]
                return status
        return Status.CONCLUDED

    def _request(self, rows: Rows, pk: int, created_at: dt.datetime, number: str) -> None:
        rng = self.rng
        party = self._party()
        kind = rng.choices(self.types, cum_weights=self.type_weights)[0]
        agreement = rng.choices(self.agreements, cum_weights=self.agreement_weights)[0]
        country, ports = rng.choice(_places(agreement))
        status = self._status(self.now - created_at)
        year = created_at.year
        serial = rng.randrange(10**10)
        certificate_no = {
            CoordinationType.CUSTOMS_CERTIFICATE: f"{_prefix(agreement)}{year % 100}{serial:010d}",
            CoordinationType.CCPIT_CERTIFICATE: f"CCPIT{year % 100}E{serial:010d}",
            CoordinationType.APPROVED_EXPORTER_DECLARATION: f"AE{year % 100}{serial:010d}",
            CoordinationType.RULING_DECLARATION: f"RD{year}{serial:010d}",
        }[kind]
        placed = kind is not CoordinationType.CCPIT_CERTIFICATE

        history: list[tuple[Any, ...]] = [
            (pk, None, Status.DRAFT.value, created_at, party.username, Role.ENTERPRISE.value, None)
        ]
        submitted_at = None
        moment = created_at
        remark = None
        if status is not Status.DRAFT:
            moment = submitted_at = self._later(created_at, hours=48)
            history.append(
                (pk, "DRAFT", "PENDING", moment, party.username, Role.ENTERPRISE.value, None)
            )
            previous = Status.PENDING
            for decision in DECISIONS[status]:
                moment = self._later(moment, hours=24 * 10)
                by_customs = decision is not Status.WITHDRAWN
                remark = REMARKS.get(decision, remark)
                history.append(
                    (
                        pk,
                        previous.value,
                        decision.value,
                        moment,
                        self.customs if by_customs else party.username,
                        (Role.CUSTOMS if by_customs else Role.ENTERPRISE).value,
                        REMARKS.get(decision),
                    )
                )
                previous = decision
        rows.history += history
        rows.coordinations.append(
            (
                pk,
                number,
                kind.value,
                status.value,
                party.enterprise_id,
                certificate_no,
                agreement,
                f"{rng.randrange(1000, 10000)}{year}{rng.choice('0E')}{rng.randrange(10**9):09d}",
                f"{country[:2]}-{year}-{rng.randrange(10**7):07d}",
                country if placed else None,
                rng.choice(ports) if placed else None,
                f"AE{rng.randrange(10**10):010d}"
                if kind is CoordinationType.APPROVED_EXPORTER_DECLARATION
                else None,
                f"XM{year}-{rng.randrange(10**4):04d}"
                if kind is CoordinationType.RULING_DECLARATION
                else None,
                rng.choice(NAMES),
                f"13{rng.randrange(10**9):09d}",
                rng.choice(REASONS),
                remark,
                len(history),
                party.user_id,
                created_at,
                moment,
                submitted_at,
            )
        )
        for slot, name, content_type in (
            (AttachmentSlot.ORIGIN_PROOF, "原产地证书.pdf", "application/pdf"),
            (AttachmentSlot.IMPORT_DECLARATION, "进口报关单.jpg", "image/jpeg"),
        ):
            rows.attachments.append(
                (
                    pk,
                    slot.value,
                    name,
                    content_type,
                    rng.randrange(20_000, 300_000),
                    f"{rng.getrandbits(256):064x}",
                    f"demo/{pk}/{slot.value.lower()}",
                    created_at,
                )
            )

    def _later(self, moment: dt.datetime, *, hours: float) -> dt.datetime:
        """A moment up to ``hours`` after ``moment``, and never in the future."""
        step = dt.timedelta(hours=hours * self.rng.random() + 0.1)
        return moment + min(step, (self.now - moment) * self.rng.random())


def _cumulative(choices: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int]]:
    return [c for c, _ in choices], list(itertools.accumulate(w for _, w in choices))


def _prefix(agreement_code: str) -> str:
    agreement = reference.agreement(agreement_code)
    assert agreement is not None
    return agreement.certificate_prefix


async def _copy(connection: AsyncConnection, rows: Rows) -> None:
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    for table, columns, records in (
        (Coordination.__table__, COORDINATION_COLUMNS, rows.coordinations),
        (StatusChange.__table__, HISTORY_COLUMNS, rows.history),
        (Attachment.__table__, ATTACHMENT_COLUMNS, rows.attachments),
    ):
        assert isinstance(table, Table)
        await raw.copy_records_to_table(table.name, records=records, columns=list(columns))


async def _executemany(connection: AsyncConnection, rows: Rows) -> None:
    # SQLite keeps datetimes as naive-UTC text (models.UTCDateTime); write that form directly.
    def stamp(value: Any) -> Any:
        return (
            value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(value, dt.datetime)
            else value
        )

    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None
    for table, columns, records in (
        (Coordination.__table__, COORDINATION_COLUMNS, rows.coordinations),
        (StatusChange.__table__, HISTORY_COLUMNS, rows.history),
        (Attachment.__table__, ATTACHMENT_COLUMNS, rows.attachments),
    ):
        assert isinstance(table, Table)
        statement = insert(table).compile(dialect=sqlite.dialect(), column_keys=list(columns))
        await raw.executemany(
            str(statement), [tuple(stamp(v) for v in record) for record in records]
        )


async def _analyze(database: Database) -> None:
    """Fresh statistics, so the planners pick the list's index ranges from the first query."""
    if database.is_sqlite:
        async with database.write_engine.begin() as connection:
            await connection.exec_driver_sql("ANALYZE")
        return
    async with database.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("enterprises", "users", "coordinations", "status_changes", "attachments"):
            # VACUUM also sets the visibility map, which lets counts read the index alone.
            await autocommit.exec_driver_sql(f"VACUUM (ANALYZE) {table}")
