"""The ``xhsz`` command line, run as a user runs it (a subprocess on the test database)."""

from pathlib import Path

import pytest

from config.settings import Settings
from tests.conftest import MakeApi
from tests.support import Api, Factory, new_uscc, xhsz

ROOT = Path(__file__).parents[2]


async def test_user_add_and_token_give_a_working_bearer_token(
    api: Api, factory: Factory, settings: Settings
) -> None:
    uscc = new_uscc()
    added = xhsz(
        settings,
        "user",
        "add",
        "cli-user",
        "--password",
        "pw-123456",
        "--role",
        "enterprise",
        "--uscc",
        uscc,
        "--enterprise-name",
        "命令行测试有限公司",
    )
    assert added.returncode == 0, added.stderr
    issued = xhsz(settings, "token", "cli-user")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.count(".") == 2, "a JWT"
    assert issued.stdout == token + "\n", "prints the token only"

    me = await api.data(
        "{ viewer { username role enterprise { uscc name } } }",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me["viewer"] == {
        "username": "cli-user",
        "role": "ENTERPRISE",
        "enterprise": {"uscc": uscc, "name": "命令行测试有限公司"},
    }
    logged_in = await api.data(
        'mutation { login(username: "cli-user", password: "pw-123456") { errors { code } } }'
    )
    assert logged_in["login"]["errors"] == []


async def test_customs_user_add(api: Api, factory: Factory, settings: Settings) -> None:
    added = xhsz(settings, "user", "add", "officer", "--password", "pw-123456", "--role", "customs")
    assert added.returncode == 0, added.stderr
    token = xhsz(settings, "token", "officer").stdout.strip()
    me = await api.data("{ viewer { role } }", headers={"Authorization": f"Bearer {token}"})
    assert me["viewer"] == {"role": "CUSTOMS"}


@pytest.mark.parametrize(
    "arguments",
    [
        ("--role", "enterprise", "--uscc", "91350100M000100Y44", "--enterprise-name", "坏代码公司"),
        ("--role", "enterprise"),
        ("--role", "customs", "--uscc", "91350100M000100Y43", "--enterprise-name", "X"),
    ],
    ids=["bad-check-character", "missing-enterprise", "customs-with-enterprise"],
)
async def test_user_add_refuses_bad_input(
    factory: Factory, settings: Settings, arguments: tuple[str, ...]
) -> None:
    result = xhsz(settings, "user", "add", "someone", "--password", "pw", *arguments)
    assert result.returncode != 0
    assert "error" in result.stderr.lower()
    assert xhsz(settings, "token", "someone").returncode == 1


async def test_token_for_an_unknown_user_fails(factory: Factory, settings: Settings) -> None:
    result = xhsz(settings, "token", "nobody")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "nobody" in result.stderr


def test_export_schema_prints_the_committed_snapshot(settings: Settings) -> None:
    result = xhsz(settings, "export-schema")
    assert result.returncode == 0
    assert result.stdout == (ROOT / "schema.graphql").read_text(encoding="utf-8")


async def test_certificates_import_reports_bad_rows_and_a_summary(
    factory: Factory, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        "certificate_no,kind,agreement_code,enterprise_uscc,import_country,issued_on,"
        "export_declaration_nos\n"
        "K1,CUSTOMS_CO,19,91350100M000100Y43,KOR,2026-03-01,350120260000000001\n"
        "K2,CUSTOMS_CO,19,91350100M000100Y43,KOR,2026-02-30,\n",
        encoding="utf-8",
    )
    first = xhsz(settings, "certificates", "import", str(path))
    assert first.returncode == 1, "a rejected row makes the exit status 1"
    assert first.stdout == "2 rows: 1 new, 0 updated, 0 unchanged, 1 rejected\n"
    assert "line 3: issued_on '2026-02-30' is not a date (YYYY-MM-DD)" in first.stderr

    again = xhsz(settings, "certificates", "import", str(path))
    assert again.stdout == "2 rows: 0 new, 0 updated, 1 unchanged, 1 rejected\n"


async def test_certificates_import_refuses_a_wrong_header(
    factory: Factory, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("no,kind\n", encoding="utf-8")
    result = xhsz(settings, "certificates", "import", str(path))
    assert result.returncode == 2
    assert "header must be" in result.stderr


async def test_a_password_change_or_disabling_revokes_tokens(
    make_api: MakeApi, factory: Factory, settings: Settings
) -> None:
    # Immediately, with nothing remembered of the token (the bound a worker's memory of a token
    # adds is tested in tests/e2e/test_auth.py).
    api = await make_api(principal_cache_seconds=0)
    alice = await factory.enterprise_user(username="alice")
    bob = await factory.enterprise_user(username="bob")
    me = "{ viewer { username } }"
    assert (await api.data(me, actor=alice))["viewer"] == {"username": "alice"}

    changed = xhsz(settings, "user", "password", "alice", "--password", "new-pass-12345")
    assert changed.returncode == 0, changed.stderr
    disabled = xhsz(settings, "user", "disable", "bob")
    assert disabled.returncode == 0, disabled.stderr

    for actor in (alice, bob):
        body = await api.post(me, actor=actor)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    login = """mutation($u: String!, $p: String!) {
      login(username: $u, password: $p) { errors { code } } }"""
    old = await api.data(login, {"u": "alice", "p": "correct horse battery staple"})
    assert old["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    new = await api.data(login, {"u": "alice", "p": "new-pass-12345"})
    assert new["login"]["errors"] == []
    refused = await api.data(login, {"u": "bob", "p": "correct horse battery staple"})
    assert refused["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]

    assert xhsz(settings, "user", "enable", "bob").returncode == 0
    again = await api.data(login, {"u": "bob", "p": "correct horse battery staple"})
    assert again["login"]["errors"] == []
    assert (await api.post(me, actor=bob))["errors"], "old tokens stay revoked"
    missing = xhsz(settings, "user", "disable", "nobody")
    assert (missing.returncode, missing.stderr) == (1, "error: no user 'nobody'\n")
