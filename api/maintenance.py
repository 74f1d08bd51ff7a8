"""Keeping attachment rows and files in agreement: ``xhsz storage check [--repair]`` and
``xhsz purge``.

The service never leaves a row without its file (files are written before their row commits and
removed after their row is gone), but a crash can leave a file without a row. ``check`` lists
every disagreement: rows whose file is missing or has another size, files no row names (orphans,
and temporary files of interrupted uploads), and files that are not ours at all (strays).
``repair`` removes orphans and partial files older than a grace period (younger ones may belong to
an upload still on its way to the database); strays are left for a person to look at.
"""

import datetime as dt
from dataclasses import dataclass

from api.storage import FileInfo, LocalStorage
from db import attachments, purge
from db.database import Database


@dataclass(frozen=True)
class Finding:
    kind: str
    """missing, damaged (a row's file is absent or of another size), orphan, partial or stray."""
    key: str
    detail: str
    repaired: bool = False

    def __str__(self) -> str:
        return f"{self.kind:<8} {self.key}  {self.detail}"


@dataclass(frozen=True)
class Report:
    rows: int
    files: int
    findings: list[Finding]

    @property
    def agree(self) -> bool:
        return all(finding.repaired for finding in self.findings)


async def _recorded(database: Database) -> dict[str, attachments.Recorded]:
    async with database.reader() as session:
        return await attachments.recorded_files(session=session)


async def check_storage(
    *,
    database: Database,
    storage: LocalStorage,
    repair: bool,
    grace: dt.timedelta,
    now: dt.datetime,
) -> Report:
    """Compare attachment rows with stored files, removing old orphans when ``repair``."""
    # Rows are read before and after listing the files, so that an upload or a deletion that
    # completes meanwhile is not mistaken for a missing file.
    before = await _recorded(database)
    files = await storage.files()
    rows = await _recorded(database)
    listed = {info.key: info for info in files}
    findings: list[Finding] = []
    for key, row in sorted(rows.items()):
        owner = f"attachment {row.attachment_id} ({row.coordination_no}, {row.slot.value})"
        if key not in before:
            continue
        if key not in listed:
            findings.append(Finding("missing", key, f"{owner}: the file is missing"))
        elif listed[key].size != row.size:
            detail = f"{owner}: {listed[key].size} bytes stored, {row.size} recorded"
            findings.append(Finding("damaged", key, detail))
    for info in files:
        if info.key not in rows:
            findings.append(await _orphan(storage, info, repair=repair, grace=grace, now=now))
    return Report(rows=len(rows), files=len(files), findings=findings)


async def _orphan(
    storage: LocalStorage, info: FileInfo, *, repair: bool, grace: dt.timedelta, now: dt.datetime
) -> Finding:
    kind = {"stored": "orphan", "partial": "partial", "stray": "stray"}[info.kind]
    what = {
        "orphan": "no attachment names it",
        "partial": "left by an interrupted upload",
        "stray": "not a file this service stores; not removed",
    }[kind]
    detail = f"{info.size} bytes, {what}"
    if not repair or kind == "stray":
        return Finding(kind, info.key, detail)
    if now - info.modified_at < grace:
        minutes = int(grace.total_seconds() // 60)
        note = f"kept: younger than {minutes} minutes, an upload may still be in progress"
        return Finding(kind, info.key, f"{detail}; {note}")
    await storage.remove_stray(info)
    return Finding(kind, info.key, f"{detail}; removed", repaired=True)


@dataclass(frozen=True)
class PurgeReport:
    purged: purge.Purged
    files_removed: int


async def purge_deleted(
    *, database: Database, storage: LocalStorage, deleted_before: dt.datetime
) -> PurgeReport:
    """Remove requests deleted at or before the cut-off, batch by batch: rows in one transaction,
    then their files."""
    total = purge.Purged()
    removed = 0
    while True:
        async with database.writer() as session, session.begin():
            batch = await purge.purge_deleted(session=session, deleted_before=deleted_before)
        if not batch.requests:
            return PurgeReport(purged=total, files_removed=removed)
        for key in batch.storage_keys:
            await storage.delete(key)
            removed += 1
        total.add(batch)


async def count_deleted(*, database: Database, deleted_before: dt.datetime) -> int:
    """How many requests a purge with this cut-off would remove."""
    async with database.reader() as session:
        return await purge.count_deleted(session=session, deleted_before=deleted_before)
