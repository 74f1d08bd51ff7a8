"""CORS for the front ends' origins (SPEC §9): preflights of /graphql and of attachment links
answered 204 for a listed origin, actual responses readable by it, nothing for any other origin."""

import pytest

from config.settings import Settings, SettingsError
from tests.conftest import MakeApi
from tests.support import Api, Factory, sample, valid_input

PORTAL = "https://portal.example.gov.cn"
DEV = "http://localhost:5173"
ELSEWHERE = "https://evil.example.com"
VIEWER = {"query": "{ viewer { username } }"}
NODE = "query($id: ID!) { node(id: $id) { ... on Attachment { downloadUrl previewUrl } } }"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,apollo-require-preflight",
}


def cors_headers(headers: object) -> dict[str, str]:
    assert hasattr(headers, "items")
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower().startswith("access-control-")
    }


@pytest.fixture
async def cors(make_api: MakeApi) -> Api:
    return await make_api(cors_origins=(PORTAL, DEV))


def test_origins_are_read_exactly_and_anything_else_refuses_to_start() -> None:
    read = Settings.from_env({"XHSZ_CORS_ORIGINS": f" {PORTAL}, {DEV} ,{PORTAL}"})
    assert read.cors_origins == (PORTAL, DEV)
    assert Settings.from_env({}).cors_origins == ()
    for wrong in (
        "*",
        "https://portal.example.gov.cn/",
        "portal.example.gov.cn",
        "https://Portal.example.gov.cn",
        "https://portal.example.gov.cn/app",
        "ftp://portal.example.gov.cn",
        "https://*.example.gov.cn",
    ):
        with pytest.raises(SettingsError):
            Settings.from_env({"XHSZ_CORS_ORIGINS": wrong})


@pytest.mark.parametrize("origin", [PORTAL, DEV])
async def test_a_listed_origins_preflight_is_answered_204(cors: Api, origin: str) -> None:
    response = await cors.client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 204
    assert response.content == b""
    found = cors_headers(response.headers)
    assert found.pop("access-control-allow-origin") == origin
    assert found.pop("access-control-allow-methods") == "GET, POST"
    allowed = {
        name.strip().lower() for name in found.pop("access-control-allow-headers").split(",")
    }
    assert allowed >= {
        "authorization",
        "content-type",
        "accept",
        "accept-language",
        "graphql-require-preflight",
        "apollo-require-preflight",
    }
    assert int(found.pop("access-control-max-age")) > 0
    assert found == {}, "no credentials, nothing else"
    assert response.headers["vary"] == "Origin"


async def test_a_listed_origin_reads_responses_and_their_request_id(
    cors: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    headers = {"Origin": PORTAL, "Authorization": f"Bearer {alice.token}"}
    response = await cors.client.post("/graphql", json=VIEWER, headers=headers)
    assert response.json() == {"data": {"viewer": {"username": alice.username}}}
    assert cors_headers(response.headers) == {
        "access-control-allow-origin": PORTAL,
        "access-control-expose-headers": "X-Request-ID",
    }
    assert "origin" in response.headers["vary"].lower()
    assert response.headers["x-request-id"]
    # Refusals too: a 415 and a 413 are readable by the page that caused them.
    refused = await cors.client.post(
        "/graphql", content=b"query=1", headers={**headers, "Content-Type": "text/plain"}
    )
    assert refused.status_code == 415
    assert refused.headers["access-control-allow-origin"] == PORTAL
    too_big = await cors.client.post(
        "/graphql",
        content=b" " * (2 * 1024 * 1024),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.headers["access-control-allow-origin"] == PORTAL


async def test_an_unlisted_origin_gets_no_access_control_header_at_all(
    cors: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    preflight = await cors.client.options("/graphql", headers={"Origin": ELSEWHERE, **PREFLIGHT})
    assert preflight.status_code == 405
    assert cors_headers(preflight.headers) == {}
    headers = {"Origin": ELSEWHERE, "Authorization": f"Bearer {alice.token}"}
    response = await cors.client.post("/graphql", json=VIEWER, headers=headers)
    assert response.status_code == 200
    assert cors_headers(response.headers) == {}
    assert response.headers["vary"] == "Origin"
    # A near miss is no match: origins compare exactly.
    for near in (PORTAL + "/", PORTAL.upper(), "http://portal.example.gov.cn", DEV + "0"):
        near_miss = await cors.client.options("/graphql", headers={"Origin": near, **PREFLIGHT})
        assert cors_headers(near_miss.headers) == {}


async def test_attachment_links_take_part_and_other_paths_do_not(
    cors: Api, factory: Factory
) -> None:
    alice = await factory.enterprise_user()
    saved = await cors.create(alice, valid_input("CCPIT_CERTIFICATE"))
    attachment = await cors.attach(alice, saved["id"], "OTHER_1", sample("png", 700), "a.png")
    links = (await cors.data(NODE, {"id": attachment["id"]}, actor=alice))["node"]
    for url in (links["downloadUrl"], links["previewUrl"]):
        preflight = await cors.client.options(
            url, headers={"Origin": DEV, "Access-Control-Request-Method": "GET"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == DEV
        response = await cors.client.get(url, headers={"Origin": DEV})
        assert response.status_code == 200
        assert response.content == sample("png", 700)
        assert response.headers["access-control-allow-origin"] == DEV
        assert response.headers["access-control-expose-headers"] == "X-Request-ID"
        elsewhere = await cors.client.get(url, headers={"Origin": ELSEWHERE})
        assert cors_headers(elsewhere.headers) == {}
    health = await cors.client.get("/healthz", headers={"Origin": DEV})
    assert cors_headers(health.headers) == {}


async def test_without_origins_nothing_changes(api: Api) -> None:
    preflight = await api.client.options("/graphql", headers={"Origin": PORTAL, **PREFLIGHT})
    assert preflight.status_code == 405
    assert cors_headers(preflight.headers) == {}
    response = await api.client.post("/graphql", json=VIEWER, headers={"Origin": PORTAL})
    assert cors_headers(response.headers) == {}
    assert "vary" not in response.headers
