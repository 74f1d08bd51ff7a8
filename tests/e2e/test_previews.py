"""Previewing attachments: ``Attachment.previewUrl`` serves the same file ``inline`` under a
sandboxing policy, and its link is signed as a preview (neither kind passes for the other)."""

from urllib.parse import urlsplit

import httpx

from tests.support import Api, Factory, sample, valid_input

NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl previewUrl } } }"
POLICY = "sandbox; default-src 'none'; img-src 'self'; object-src 'self'"


async def test_a_preview_is_the_same_file_inline_in_a_sandbox(
    api: Api, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    content = sample("pdf", 20_000)
    attachment = await api.attach(alice, saved["id"], "ORIGIN_PROOF", content, "原产地证明.pdf")
    links = (await api.data(NODE, {"id": attachment["id"]}, actor=alice))["node"]
    assert urlsplit(links["previewUrl"]).path == urlsplit(links["downloadUrl"]).path + "/preview"

    preview = await client.get(links["previewUrl"])
    assert preview.status_code == 200
    assert preview.content == content
    assert preview.headers["content-type"] == "application/pdf"
    assert preview.headers["content-security-policy"] == POLICY
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert preview.headers["content-disposition"].startswith('inline; filename="')
    assert preview.headers["content-disposition"].endswith(
        "''%E5%8E%9F%E4%BA%A7%E5%9C%B0%E8%AF%81%E6%98%8E.pdf"
    )

    download = await client.get(links["downloadUrl"])
    assert download.headers["content-disposition"].startswith("attachment; ")
    assert download.headers["content-security-policy"] != POLICY


async def test_a_download_link_does_not_open_a_preview_nor_the_other_way_round(
    api: Api, client: httpx.AsyncClient, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    saved = await api.create(alice, valid_input("CCPIT_CERTIFICATE"))
    attachment = await api.attach(alice, saved["id"], "OTHER_1", sample("png", 900), "a.png")
    links = (await api.data(NODE, {"id": attachment["id"]}, actor=alice))["node"]
    download, preview = urlsplit(links["downloadUrl"]), urlsplit(links["previewUrl"])
    as_preview = download._replace(path=preview.path).geturl()
    as_download = preview._replace(path=download.path).geturl()
    assert (await client.get(as_preview)).status_code == 403
    assert (await client.get(as_download)).status_code == 403
    assert (await client.get(links["previewUrl"])).status_code == 200
