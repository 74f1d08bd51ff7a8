"""GraphiQL in a real headless Chromium, with every non-loopback request blocked: the IDE loads
from the app alone, runs a query with a bearer token, and shows the result; it runs a
subscription over its WebSocket under the page's Content-Security-Policy too."""

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.async_api import Request, Route, async_playwright

from api import graphiql
from config.settings import Settings
from tests.live import wait_for_subscriptions
from tests.servers import uvicorn_server
from tests.support import Api, Factory, valid_input

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).parents[2] / "var" / "graphiql.png"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("XHSZ_REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)


async def test_graphiql_runs_a_viewer_query_offline(factory: Factory, settings: Settings) -> None:
    assert graphiql.installed(), "run ./scripts/setup: GraphiQL's assets are missing"
    alice = await factory.enterprise_user(username="browser-user")
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    headers = json.dumps({"Authorization": f"Bearer {alice.token}"})
    query = "{ viewer { username role } }"
    blocked: list[str] = []

    async def only_loopback(route: Route, request: Request) -> None:
        if urlsplit(request.url).hostname in LOOPBACK or request.url.startswith("data:"):
            await route.continue_()
        else:
            blocked.append(request.url)
            await route.abort()

    with uvicorn_server(environment) as base_url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            await page.route("**/*", only_loopback)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(
                f"{base_url}/graphql?q={quote(query)}#headers={quote(headers)}",
                wait_until="networkidle",
            )
            location = await page.evaluate("window.location.href")
            assert "#" not in location, (location, errors, blocked)
            await page.click(".graphiql-execute-button")
            result = page.locator(".result-window")
            await result.get_by_text('"browser-user"').wait_for(timeout=60_000)
            SCREENSHOT.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
            shown = await result.inner_text()
            await browser.close()

    assert '"username": "browser-user"' in shown
    assert '"role": "ENTERPRISE"' in shown
    assert errors == []
    assert blocked == [], "GraphiQL must not reach beyond the app"


async def test_graphiql_runs_a_subscription_over_its_websocket(
    factory: Factory, settings: Settings
) -> None:
    alice = await factory.enterprise_user(username="browser-subscriber")
    environment = {
        "XHSZ_DATABASE_URL": settings.database_url,
        "XHSZ_SECRET_KEY": settings.secret_key,
        "XHSZ_STORAGE_DIR": str(settings.storage_dir),
    }
    headers = json.dumps({"Authorization": f"Bearer {alice.token}"})
    query = "subscription { coordinationEvents { kind coordinationNo version } }"
    with uvicorn_server(environment) as base_url:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # (A Content-Security-Policy that blocked the socket would leave the result empty.)
            await page.goto(
                f"{base_url}/graphql?q={quote(query)}#headers={quote(headers)}",
                wait_until="networkidle",
            )
            async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
                await page.click(".graphiql-execute-button")
                await wait_for_subscriptions(http, 1)
                created = await Api(http).create(alice, valid_input("CUSTOMS_CERTIFICATE"))
            result = page.locator(".result-window")
            await result.get_by_text(created["coordinationNo"]).wait_for(timeout=60_000)
            shown = await result.inner_text()
            await browser.close()

    assert '"kind": "CREATED"' in shown
    assert '"version": 1' in shown
    assert errors == []
