"""Attachment files on local disk (aiofiles), behind the few operations the service needs, so that
an object store can take its place: ``put``, ``open``, ``delete`` and ``files`` (for checks).

Keys are chosen here, never taken from the client: 32 random hex characters under a directory
named by their first two, ``3f/3fa2…``, so that no directory grows too large; a key is the
file's path relative to the storage directory. ``put``
writes to a temporary name in the final directory, fsyncs, renames into place and fsyncs the
directory: once it returns, the file survives a crash, and a file under a key is always whole.
Temporary names start with a dot; one left behind by a crash is an orphan like any other.
"""

import asyncio
import datetime as dt
import hashlib
import os
import re
import secrets
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import aiofiles
import aiofiles.os
from aiofiles.threadpool.binary import AsyncBufferedReader

from db.attachments import CHUNK_BYTES, Source, StoredFile

KEY = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{30}")
TEMPORARY = re.compile(r"([0-9a-f]{2})/\.\1[0-9a-f]{30}\.partial")


@dataclass(frozen=True)
class FileInfo:
    key: str
    """The path relative to the storage directory: the storage key of a whole file."""
    size: int
    modified_at: dt.datetime

    @property
    def kind(self) -> str:
        """``stored`` (a whole file under its key), ``partial`` (the temporary file of an upload
        that was interrupted or is still running), or ``stray`` (anything else)."""
        if KEY.fullmatch(self.key):
            return "stored"
        return "partial" if TEMPORARY.fullmatch(self.key) else "stray"


class OpenFile:
    """A stored file opened for reading; ``chunks`` closes it when done (so does ``close``)."""

    def __init__(self, handle: AsyncBufferedReader, size: int) -> None:
        self.handle = handle
        self.size = size

    async def chunks(self, chunk_bytes: int = 64 * 1024) -> AsyncIterator[bytes]:
        try:
            while chunk := await self.handle.read(chunk_bytes):
                yield chunk
        finally:
            await self.close()

    async def close(self) -> None:
        await self.handle.close()


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    async def put(self, source: Source) -> StoredFile:
        """Store the source's bytes under a new key; durable when this returns."""
        name = secrets.token_hex(16)
        key = f"{name[:2]}/{name}"
        final = self.path(key)
        await aiofiles.os.makedirs(final.parent, exist_ok=True)
        temporary = final.with_name(f".{name}.partial")
        digest = hashlib.sha256()
        size = 0
        try:
            await source.seek(0)
            async with aiofiles.open(temporary, "xb", opener=_private) as out:
                while chunk := await source.read(CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    await out.write(chunk)
                await out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            await aiofiles.os.rename(temporary, final)
            await asyncio.to_thread(_fsync_directory, final.parent)
        except BaseException:
            with suppress(FileNotFoundError):
                await aiofiles.os.remove(temporary)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    async def open(self, key: str) -> OpenFile:
        """The file for reading; ``FileNotFoundError`` when it is not there."""
        handle = await aiofiles.open(self.path(key), "rb")
        try:
            size = os.fstat(handle.fileno()).st_size
        except BaseException:
            await handle.close()
            raise
        return OpenFile(handle, size)

    async def delete(self, key: str) -> None:
        """Remove a file; one that is already gone is fine."""
        with suppress(FileNotFoundError):
            await aiofiles.os.remove(self.path(key))

    async def remove_stray(self, info: FileInfo) -> None:
        """Remove a file ``files`` listed, whether or not it is a stored file (a partial one)."""
        path = self.root / info.key
        if self.root.resolve() not in path.resolve().parents:
            raise ValueError(f"not inside the storage directory: {info.key!r}")
        with suppress(FileNotFoundError):
            await aiofiles.os.remove(path)

    async def files(self) -> list[FileInfo]:
        """Every file under the root, partial ones included, by relative path."""
        return await asyncio.to_thread(self._walk)

    def _walk(self) -> list[FileInfo]:
        found = []
        for directory, _subdirectories, names in os.walk(self.root):
            for name in names:
                path = Path(directory, name)
                try:
                    stat = path.stat()
                except FileNotFoundError:  # removed while we looked
                    continue
                found.append(
                    FileInfo(
                        key=path.relative_to(self.root).as_posix(),
                        size=stat.st_size,
                        modified_at=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC),
                    )
                )
        return sorted(found, key=lambda info: info.key)


def _private(path: str, flags: int) -> int:
    """Open new files readable by the service's own user only."""
    return os.open(path, flags, 0o600)


def _fsync_directory(path: Path) -> None:
    """Make a rename in ``path`` durable (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
