"""CORS in a real browser: headless Chromium on a page from one loopback origin calls the API on
another. A listed origin queries, uploads (multipart, with the preflight header) and downloads; an
unlisted one is blocked by the browser itself, having received no Access-Control-* header."""

import base64
import hashlib
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import async_playwright

from config.settings import Settings
from tests.servers import uvicorn_server
from tests.support import Factory, sample, valid_input

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("XHSZ_REQUIRE_BROWSER"),
    reason="Debian's chromium is not installed (scripts/test installs it)",
)

PAGE = b"<!doctype html><html><head><title>portal</title></head><body>portal</body></html>"


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def page_origin() -> Iterator[str]:
    """A front end's origin: a static page on a port of its own (another origin than the API's)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# Runs in the page: a query, an upload and a download, each as a front end would send it.
SCRIPT = """
async ({ api, token, id, png }) => {
  const auth = { Authorization: `Bearer ${token}` };
  const outcome = {};
  try {
    const query = await fetch(`${api}/graphql`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json", "Accept-Language": "en" },
      body: JSON.stringify({ query: "{ viewer { username } }" }),
    });
    outcome.requestId = query.headers.get("X-Request-ID");
    outcome.viewer = (await query.json()).data.viewer.username;
  } catch (error) {
    outcome.queryError = String(error);
    return outcome;
  }
  const form = new FormData();
  form.append("operations", JSON.stringify({
    query: `mutation($id: ID!, $file: Upload!) { uploadAttachment(coordinationId: $id,
      slot: OTHER_1, file: $file) { errors { code } attachment { sha256 downloadUrl } } }`,
    variables: { id, file: null },
  }));
  form.append("map", JSON.stringify({ 0: ["variables.file"] }));
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  form.append("0", new File([bytes], "照片.png", { type: "image/png" }));
  const upload = await fetch(`${api}/graphql`, {
    method: "POST", headers: { ...auth, "Apollo-Require-Preflight": "true" }, body: form,
  });
  const payload = (await upload.json()).data.uploadAttachment;
  outcome.uploadErrors = payload.errors;
  // A path on the API's host (no XHSZ_PUBLIC_URL here), so resolved against the API, not the page.
  const download = await fetch(new URL(payload.attachment.downloadUrl, api));
  const digest = await crypto.subtle.digest("SHA-256", await download.arrayBuffer());
  const hex = (b) => b.toString(16).padStart(2, "0");
  outcome.downloaded = [...new Uint8Array(digest)].map(hex).join("");
  outcome.uploaded = payload.attachment.sha256;
  return outcome;
}
"""


async def test_a_listed_origin_may_call_the_api_and_an_unlisted_one_may_not(
    factory: Factory, settings: Settings
) -> None:
    alice = await factory.enterprise_user()
    saved = await factory.api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    png = sample("png", 2000)
    with page_origin() as listed, page_origin() as unlisted:
        environment = {
            "XHSZ_DATABASE_URL": settings.database_url,
            "XHSZ_SECRET_KEY": settings.secret_key,
            "XHSZ_STORAGE_DIR": str(settings.storage_dir),
            "XHSZ_CORS_ORIGINS": listed,
        }
        with uvicorn_server(environment) as api:
            arguments = {
                "api": api,
                "token": alice.token,
                "id": saved["id"],
                "png": base64.b64encode(png).decode(),
            }
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                page = await browser.new_page()
                await page.goto(unlisted)
                blocked = await page.evaluate(SCRIPT, arguments)
                await page.goto(listed)
                allowed = await page.evaluate(SCRIPT, arguments)
                await browser.close()

    assert "Failed to fetch" in blocked.get("queryError", ""), blocked
    assert allowed["viewer"] == alice.username, allowed
    assert allowed["requestId"], "X-Request-ID is exposed to the page"
    assert allowed["uploadErrors"] == [], allowed
    assert allowed["downloaded"] == allowed["uploaded"] == hashlib.sha256(png).hexdigest()
