"""Where a download link points: at the configured public URL (``XHSZ_PUBLIC_URL``) or, without
one, at a path on the host the client already talks to; never at a host a request header names."""

import httpx
import pytest

from tests.conftest import MakeApi
from tests.support import Actor, Api, Factory, sample, valid_input

NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl } } }"
PUBLIC_URL = "https://xhsz.example.gov.cn/api"


@pytest.fixture
async def alice(factory: Factory) -> Actor:
    return await factory.enterprise_user()


async def attachment_id(api: Api, alice: Actor) -> str:
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    attachment = await api.attach(alice, saved["id"], "OTHER_1", sample("png", 1000), "a.png")
    return str(attachment["id"])


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example:8443", "X-Forwarded-Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
    ],
    ids=["host", "host-and-forwarded", "forwarded"],
)
async def test_a_download_link_never_takes_its_host_from_the_request(
    api: Api, client: httpx.AsyncClient, alice: Actor, headers: dict[str, str]
) -> None:
    found = await attachment_id(api, alice)

    data = await api.data(NODE, {"id": found}, actor=alice, headers=headers)
    link = data["node"]["downloadUrl"]

    assert "evil" not in link
    assert link.startswith("/attachments/")
    assert httpx.URL(link).host == "", "a path on the host the client already uses"
    response = await client.get(link)
    assert response.status_code == 200
    assert response.content == sample("png", 1000)


async def test_a_download_link_starts_with_the_configured_public_url(
    api: Api, alice: Actor, make_api: MakeApi
) -> None:
    found = await attachment_id(api, alice)
    public = await make_api(public_url=PUBLIC_URL)

    data = await public.data(NODE, {"id": found}, actor=alice, headers={"Host": "evil.example"})
    link = data["node"]["downloadUrl"]

    assert link.startswith(f"{PUBLIC_URL}/attachments/")
    assert "evil" not in link
    # Behind the proxy that serves the public URL, /api/… reaches the app as /….
    path = link.removeprefix(PUBLIC_URL)
    response = await public.client.get(path)
    assert response.status_code == 200
    assert response.content == sample("png", 1000)
