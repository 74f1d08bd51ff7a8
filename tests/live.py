"""A small graphql-transport-ws client for tests (the ``websockets`` library), and helpers to wait
for a live server's subscriptions."""

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
EVENTS = """
subscription($no: String) {
  coordinationEvents(coordinationNo: $no) {
    kind coordinationId coordinationNo status version at
    coordination { ... on Coordination { id coordinationNo status version contactName } }
  }
}
"""
WAIT = 30.0
"""The longest a test waits for anything a live server should send (a loaded machine)."""


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/graphql"


@dataclass
class Socket:
    connection: ClientConnection
    received: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        base_url: str,
        payload: dict[str, Any] | None,
        *,
        origin: str | None = None,
        ack: bool = True,
    ) -> "Socket":
        """Connect and send ``connection_init`` with ``payload``; wait for the ack if ``ack``."""
        headers = {"Origin": origin} if origin else None
        connection = await connect(
            ws_url(base_url), subprotocols=[PROTOCOL], additional_headers=headers, open_timeout=WAIT
        )
        socket = cls(connection)
        message: dict[str, Any] = {"type": "connection_init"}
        if payload is not None:
            message["payload"] = payload
        await socket.send(message)
        if ack:
            assert (await socket.message())["type"] == "connection_ack"
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def subscribe(
        self, operation_id: str = "1", query: str = EVENTS, **variables: Any
    ) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables},
            }
        )

    async def message(self, wait: float = WAIT) -> dict[str, Any]:
        """The next message other than a ping (which is answered)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), wait)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            self.received.append(message)
            return message

    async def events(self, count: int, wait: float = WAIT) -> list[dict[str, Any]]:
        """The next ``count`` events (``next`` payloads' data), failing on anything else."""
        found = []
        while len(found) < count:
            message = await self.message(wait)
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.append(message["payload"]["data"]["coordinationEvents"])
        return found

    async def nothing_more(self, seconds: float) -> None:
        """No message (other than pings) arrives within ``seconds``."""
        try:
            message = await self.message(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {message}")

    async def closed(self, wait: float = WAIT) -> tuple[int | None, str]:
        """The close code and reason the server ended the connection with."""
        try:
            async with asyncio.timeout(wait):
                while True:
                    await self.message(wait)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame else (None, "")

    async def close(self) -> None:
        await self.connection.close()


async def open_subscriptions(http: httpx.AsyncClient) -> float:
    """``xhsz_subscriptions_open`` as ``/metrics`` reports it (summed over workers)."""
    text = (await http.get("/metrics")).text
    found = re.search(r"^xhsz_subscriptions_open(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def wait_for_subscriptions(http: httpx.AsyncClient, count: int) -> None:
    """Until the server reports at least ``count`` open subscriptions (subscribing has no
    acknowledgement in the protocol, so a test waits for this before it changes anything)."""
    async with asyncio.timeout(WAIT):
        while await open_subscriptions(http) < count:  # noqa: ASYNC110 (another process's state)
            await asyncio.sleep(0.05)
