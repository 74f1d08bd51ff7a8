"""A PostgreSQL wire-protocol proxy that counts round trips, for tests and benchmarks.

A round trip is a message the client must wait on the server for: a simple ``Query`` ('Q') or the
``Sync`` ('S') that ends an extended-protocol exchange (Parse/Bind/Execute…). So ``BEGIN``,
``COMMIT``, ``ROLLBACK`` and a pool's empty ping each count once, and an asyncpg statement that is
prepared on first use counts twice that time (Parse+Describe+Sync, then Bind+Execute+Sync).
Counted at the wire, not by a list of expected statements: what the app sends is what is counted.
"""

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

ROUND_TRIP_MESSAGES = frozenset(b"QS")


@dataclass
class Counts:
    round_trips: int = 0
    connections: int = 0


class _ClientStream:
    """Splits what a client sends into messages: untyped start-up messages (SSL request, start-up)
    until the start-up message, then typed ones (one byte of type, four of length)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.started = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if not self.started:
                if len(self.buffer) < 8:
                    return
                length, code = struct.unpack("!ii", self.buffer[:8])
                if len(self.buffer) < length:
                    return
                self.buffer = self.buffer[length:]
                # SSLRequest and GSSENCRequest are followed by the real start-up message.
                self.started = code not in (80877103, 80877104)
                continue
            if len(self.buffer) < 5:
                return
            kind = self.buffer[0]
            (length,) = struct.unpack("!i", self.buffer[1:5])
            if len(self.buffer) < 1 + length:
                return
            self.buffer = self.buffer[1 + length :]
            if kind in ROUND_TRIP_MESSAGES:
                self.counts.round_trips += 1


class CountingProxy:
    """Listens on 127.0.0.1 and forwards every connection to PostgreSQL at ``upstream``."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.counts = Counts()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            await link.end()

    async def sever_silently(self) -> int:
        """End every connection on PostgreSQL's side while its client hears nothing: the client
        learns only when it next sends, and then its connection is reset (a server that went away
        in the instant before a query, deterministically). How many were severed."""
        links = [link for link in self._links if not link.severed]
        for link in links:
            await link.sever()
        return len(links)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts.connections += 1
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        client = _ClientStream(self.counts)
        link = _Link(writer, up_writer)
        self._links.add(link)

        def from_client(data: bytes) -> bool:
            if link.severed:
                writer.transport.abort()  # a reset, as from a server that is gone
                return False
            client.feed(data)
            return True

        link.tasks = [
            asyncio.create_task(_pipe(reader, up_writer, from_client)),
            asyncio.create_task(_pipe(up_reader, writer, None)),
        ]
        try:
            await asyncio.gather(*link.tasks, return_exceptions=True)
        finally:
            self._links.discard(link)
            if not link.severed:
                for stream in (writer, up_writer):
                    stream.close()


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    severed: bool = False
    tasks: list["asyncio.Task[None]"] = field(default_factory=list)

    async def sever(self) -> None:
        self.severed = True
        self.tasks[1].cancel()  # nothing more reaches the client, not even the server's end
        with suppress(asyncio.CancelledError):
            await self.tasks[1]
        self.upstream.close()

    async def end(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        for stream in (self.client, self.upstream):
            stream.close()


async def _pipe(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    observe: Callable[[bytes], bool] | None,
) -> None:
    try:
        while data := await reader.read(65536):
            if observe is not None and not observe(data):
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    # Not when cancelled: a severed link keeps its client's socket open.
    with suppress(Exception):
        writer.close()


@asynccontextmanager
async def counting_proxy(host: str = "127.0.0.1", port: int = 5432) -> AsyncIterator[CountingProxy]:
    proxy = CountingProxy(host, port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


async def _serve_forever(ready: str) -> None:
    """Run a proxy and a control port that answers ``round_trips connections`` to any connection;
    write ``proxy_port control_port`` to the file ``ready``."""
    proxy = CountingProxy()
    await proxy.start()

    async def control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"{proxy.counts.round_trips} {proxy.counts.connections}\n".encode())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(control, "127.0.0.1", 0)
    ports = f"{proxy.port} {server.sockets[0].getsockname()[1]}\n"
    await asyncio.to_thread(Path(ready).write_text, ports)
    await asyncio.Event().wait()


def read_counts(control_port: int) -> tuple[int, int]:
    """``(round_trips, connections)`` of a proxy started with ``python -m tests.pgwire``."""
    import socket

    with socket.create_connection(("127.0.0.1", control_port), timeout=5) as control:
        trips, connections = control.makefile().readline().split()
    return int(trips), int(connections)


if __name__ == "__main__":
    import sys

    asyncio.run(_serve_forever(sys.argv[1]))
