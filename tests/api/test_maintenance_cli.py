"""``xhsz storage check [--repair]`` and ``xhsz purge``, run as an operator runs them, against
rows and files the real app made."""

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from config.settings import Settings
from db.clock import utcnow
from db.database import Database
from db.models import Attachment, Coordination, StatusChange
from tests.support import (
    Actor,
    Api,
    Factory,
    count_rows,
    pk_of,
    sample,
    stored_files,
    unused_storage_key,
    update_coordination,
    valid_input,
    xhsz,
)


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def new_request(api: Api, alice: Actor, files: int = 1) -> str:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    for slot in ("ORIGIN_PROOF", "IMPORT_DECLARATION", "OTHER_1", "OTHER_2")[:files]:
        await api.attach(alice, saved["id"], slot, sample("png", 1000), f"{slot}.png")
    return str(saved["id"])


async def files_of(database: Database, request_id: str) -> list[str]:
    async with database.reader() as session:
        found = await session.scalars(
            select(Attachment.storage_key).where(Attachment.coordination_id == pk_of(request_id))
        )
        return list(found)


def age(path: Path, minutes: int) -> None:
    then = (utcnow() - dt.timedelta(minutes=minutes)).timestamp()
    os.utime(path, (then, then))


async def test_storage_check_exits_0_when_rows_and_files_agree(
    api: Api, alice: Actor, settings: Settings
) -> None:
    await new_request(api, alice, files=2)
    result = xhsz(settings, "storage", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == (
        f"2 attachment rows, 2 files in {settings.storage_dir}: rows and files agree\n"
    )


async def test_storage_check_lists_every_disagreement_and_repair_removes_orphans_and_leftovers(
    api: Api, alice: Actor, settings: Settings, storage_dir: Path
) -> None:
    await new_request(api, alice, files=3)
    gone, cut, whole = stored_files(storage_dir)
    (storage_dir / gone).unlink()
    (storage_dir / cut).write_bytes(b"\x89PNG")
    orphan = unused_storage_key(storage_dir)
    (storage_dir / orphan).parent.mkdir()
    (storage_dir / orphan).write_bytes(b"left behind")
    partial = f"{whole[:2]}/.{whole[3:]}.partial"
    (storage_dir / partial).write_bytes(b"half")
    stray = "notes.txt"
    (storage_dir / stray).write_bytes(b"not ours")

    checked = xhsz(settings, "storage", "check")
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert lines[-1] == f"3 attachment rows, 5 files in {settings.storage_dir}: 5 problems"
    assert sorted(line.split()[0:2] for line in lines[:-1]) == sorted(
        [
            ["missing", gone],
            ["damaged", cut],
            ["orphan", orphan],
            ["partial", partial],
            ["stray", stray],
        ]
    )
    assert "the file is missing" in checked.stdout
    assert "4 bytes stored, 1000 recorded" in checked.stdout

    repaired = xhsz(settings, "storage", "check", "--repair", "--grace-minutes", "0")
    assert repaired.returncode == 1, "a missing or damaged file cannot be repaired"
    assert f"orphan   {orphan}  11 bytes, no attachment names it; removed" in repaired.stdout
    assert f"partial  {partial}  4 bytes, left by an interrupted upload; removed" in repaired.stdout
    assert repaired.stdout.splitlines()[-1].endswith(": 3 problems")
    assert sorted(stored_files(storage_dir)) == sorted([cut, stray, whole])


async def test_repair_keeps_orphans_younger_than_the_grace_period(
    api: Api, alice: Actor, settings: Settings, storage_dir: Path
) -> None:
    await new_request(api, alice, files=1)
    orphan = storage_dir / unused_storage_key(storage_dir, fill="1")
    orphan.parent.mkdir()
    orphan.write_bytes(b"x")

    young = xhsz(settings, "storage", "check", "--repair")
    assert young.returncode == 1
    assert "kept: younger than 15 minutes, an upload may still be in progress" in young.stdout
    assert orphan.exists()

    age(orphan, minutes=16)
    old = xhsz(settings, "storage", "check", "--repair")
    assert old.returncode == 0, old.stdout
    assert not orphan.exists()
    assert old.stdout.splitlines()[-1].endswith("rows and files agree")


@contextmanager
def failing_commits() -> Iterator[None]:
    """Every database commit fails while the block runs, as when the database goes away."""

    def fail(_session: Session) -> None:
        raise ConnectionError("simulated failure at commit")

    event.listen(Session, "before_commit", fail)
    try:
        yield
    finally:
        event.remove(Session, "before_commit", fail)


async def test_a_failed_commit_leaves_neither_row_nor_file(
    api: Api, alice: Actor, database: Database, settings: Settings, storage_dir: Path
) -> None:
    request_id = await new_request(api, alice, files=0)
    with failing_commits():
        data = await api.data(
            "query { viewer { username } }",  # reads still work
            actor=alice,
        )
        response = await api.multipart(
            "mutation($id: ID!, $file: Upload!) { uploadAttachment(coordinationId: $id, "
            "slot: ORIGIN_PROOF, file: $file) { message } }",
            {"id": request_id},
            ("a.png", sample("png", 100_000), "image/png"),
            actor=alice,
        )
    assert data["viewer"]["username"] == alice.username
    assert response.json()["errors"][0]["message"] == "服务器内部错误，请将请求编号告知管理员"
    assert await count_rows(database, Attachment) == 0
    assert stored_files(storage_dir) == []
    assert (await api.get(alice, id=request_id))["version"] == 1
    assert xhsz(settings, "storage", "check").returncode == 0


async def test_purge_removes_requests_deleted_long_enough_ago_with_history_and_files(
    api: Api, alice: Actor, database: Database, settings: Settings, storage_dir: Path
) -> None:
    old = await new_request(api, alice, files=2)
    recent = await new_request(api, alice, files=1)
    kept = await new_request(api, alice, files=1)
    await update_coordination(database, old, deleted_at=utcnow() - dt.timedelta(days=31))
    await update_coordination(database, recent, deleted_at=utcnow() - dt.timedelta(days=2))
    keep = await files_of(database, recent) + await files_of(database, kept)

    counted = xhsz(settings, "purge", "--older-than", "30", "--dry-run")
    assert counted.stdout == "would purge 1 deleted requests\n"
    assert await count_rows(database, Coordination) == 3

    purged = xhsz(settings, "purge", "--older-than", "30")
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout == (
        "purged 1 deleted requests, 1 history entries, 2 attachments and 2 files\n"
    )
    assert await count_rows(database, Coordination) == 2
    assert await count_rows(database, StatusChange) == 2
    assert await count_rows(database, Attachment) == 2
    assert stored_files(storage_dir) == sorted(keep)

    everything = xhsz(settings, "purge", "--older-than", "0")
    assert everything.stdout.startswith("purged 1 deleted requests")
    assert await count_rows(database, Coordination) == 1
    assert len(stored_files(storage_dir)) == 1
    assert xhsz(settings, "storage", "check").returncode == 0


def test_purge_needs_an_age(settings: Settings) -> None:
    result = xhsz(settings, "purge")
    assert result.returncode == 2
    assert "--older-than" in result.stderr
